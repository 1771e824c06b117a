package io.urunc.shim;

import io.urunc.image.ContainerdMetadataSource;
import io.urunc.shim.config.ConfigException;
import io.urunc.shim.config.ConfigLoader;
import io.urunc.shim.config.ShimConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** containerd-shim-urunc-v2: the {@code start}, {@code delete} and daemon entry points. */
public final class Main {
    public static final String VERSION = "0.1.0";

    private Main() {}

    public static void main(String[] argv) {
        ShimArgs args = ShimArgs.parse(argv);
        PrintStream out = System.out;
        if (args.version()) {
            out.println("containerd-shim-urunc-v2:\n  Version: " + VERSION + "\n  Runtime: io.containerd.urunc.v2");
            return;
        }
        if (args.info()) {
            byte[] info = RuntimeInfoCommand.info().toByteArray();
            out.write(info, 0, info.length);
            out.flush();
            return;
        }
        if (args.action().equals("train")) {
            // the AOT cache's training run (launcher: aot-train); it brings its own configuration
            try {
                Training.run(Path.of(args.bundle()));
                System.exit(0);
            } catch (Exception e) {
                fail("train", e.toString());
            }
        }
        // a daemon's warm-up runs beside everything the daemon does from here on (DaemonWarmUp)
        ContainerdMetadataSource containerd = null;
        if (args.action().equals("daemon")) {
            try {
                containerd = ContainerdSource.forAddress(args.address());
            } catch (java.nio.file.InvalidPathException e) {
                fail("daemon", "invalid -address: " + e.getMessage());
            }
            DaemonWarmUp.start(containerd, args.namespace(), args.id());
        }
        ShimConfig config;
        try {
            config = ConfigLoader.load(System.getenv());
        } catch (ConfigException e) {
            fail(args.action(), "invalid configuration: " + e.getMessage());
            return;
        }
        switch (args.action()) {
            case "start" -> {
                try {
                    ShimArgs start = StartInput.apply(args, StartInput.bootstrapParams(StartInput.read(System.in)));
                    requireNamespaceAndId(start);
                    out.print(StartCommand.run(start, config, Path.of(System.getProperty("user.dir"))));
                    out.flush();
                } catch (IOException | RuntimeException e) {
                    fail("start", e.getMessage());
                }
            }
            case "delete" -> {
                requireNamespaceAndId(args);
                try {
                    byte[] response = DeleteCommand.run(args, config).toByteArray();
                    out.write(response, 0, response.length);
                    out.flush();
                } catch (IOException e) {
                    fail("delete", e.getMessage());
                }
            }
            case "daemon" -> {
                String level = args.debug() ? "debug" : config.logLevel();
                try {
                    DaemonLog.toFile(config.stateDir().resolve("log").resolve(
                            Path.of(args.socket()).getFileName().toString().substring(0, 16) + ".log"), level);
                    new Daemon(args, config, containerd).run();
                    System.exit(0);
                } catch (Exception e) {
                    fail("daemon", e.toString());
                }
            }
            default -> fail(args.action(), "unknown action \"" + args.action() + "\": expected start or delete");
        }
    }

    private static void requireNamespaceAndId(ShimArgs args) {
        if (args.namespace().isEmpty()) fail(args.action(), "-namespace is required");
        if (args.id().isEmpty()) fail(args.action(), "-id is required");
    }

    private static void fail(String action, String message) {
        if ("daemon".equals(action)) {
            // start reads our stdout: tell it why, then exit
            System.out.println("ERROR " + message);
            System.out.flush();
        }
        System.err.println("containerd-shim-urunc-v2 " + action + ": " + message);
        System.exit(1);
    }
}
