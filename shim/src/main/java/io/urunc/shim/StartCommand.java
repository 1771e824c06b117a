package io.urunc.shim;

import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.config.ShimConfig;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code containerd-shim-urunc-v2 start}: finds or starts the daemon for the task's group, writes the
 * bundle's {@code address} file and prints the address. Nothing else may reach stdout or stderr here:
 * containerd reads both as the address. No logging framework is touched on this path.
 */
final class StartCommand {
    private static final long READY_TIMEOUT_SECONDS = 30;

    private StartCommand() {}

    static String run(ShimArgs args, ShimConfig config, Path bundleDir) throws IOException {
        Map<String, String> annotations;
        try {
            annotations = Bundle.load(bundleDir).annotations();
        } catch (io.urunc.shim.bundle.BundleException e) {
            annotations = Map.of();
        }
        String group = DaemonAddress.group(config.grouping(), args.id(), annotations);
        DaemonAddress daemon = DaemonAddress.of(args.address(), args.namespace(), group, config.stateDir());
        io.urunc.shim.io.OwnerOnly.directory(config.stateDir());
        Files.createDirectories(daemon.pidFile().getParent());
        touch(daemon.wantedFile());
        boolean served;
        // under the lock an idle daemon takes to leave: a daemon found here stays (the wanted file is fresh)
        try (DaemonAddress.GroupLock ignored = daemon.lockGroup()) {
            served = connectable(daemon.socket());
        }
        // the daemon takes that lock itself to bind, or finds the group served by another one started meanwhile
        if (!served) spawnDaemon(args, daemon);
        writeAddressFile(bundleDir, daemon.uri());
        return daemon.uri();
    }

    static void touch(Path file) throws IOException {
        if (!Files.exists(file)) Files.createFile(file);
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
    }

    static boolean connectable(Path socket) {
        if (!Files.exists(socket)) return false;
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void spawnDaemon(ShimArgs args, DaemonAddress daemon) throws IOException {
        Files.createDirectories(daemon.logFile().getParent());
        List<String> cmd = new ArrayList<>();
        // setsid: the daemon must not share containerd's process group or session (signals, terminals).
        cmd.add("setsid");
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(daemonJvmOptions(System.getenv()));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of("-namespace", args.namespace(), "-address", args.address(),
                "-publish-binary", args.publishBinary(), "-socket", daemon.socket().toString(), "-id", args.id()));
        if (args.debug()) cmd.add("-debug");
        cmd.add("daemon");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(Path.of("/").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.PIPE)
                .redirectError(ProcessBuilder.Redirect.appendTo(daemon.logFile().toFile()));
        Process p = pb.start();
        String line;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            line = readLineWithin(r, p);
        }
        if (line == null || !line.startsWith("READY")) {
            String reason = line != null && line.startsWith("ERROR ") ? line.substring(6) : "it exited before it was ready";
            throw new IOException("urunc shim daemon failed to start: " + reason + " (log: " + daemon.logFile() + ")");
        }
    }

    /** The daemon's first line, or null if it dies or stays silent past the timeout (it is then killed). */
    private static String readLineWithin(BufferedReader r, Process p) throws IOException {
        var answered = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watchdog = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(READY_TIMEOUT_SECONDS));
                if (!answered.get()) p.destroyForcibly();
            } catch (InterruptedException ignored) {
                // answered in time
            }
        });
        try {
            return r.readLine();
        } finally {
            answered.set(true);
            watchdog.interrupt();
        }
    }

    /**
     * The daemon runs with the JVM options the launcher gave this JVM ({@code URUNC_JVM_OPTIONS}: the launcher is
     * their one source, AOT cache included), so one AOT cache serves both; {@code URUNC_DAEMON_JAVA_OPTS} replaces
     * them. The daemon's stderr is its log file: JVM warnings go there.
     */
    static List<String> daemonJvmOptions(Map<String, String> env) {
        String custom = env.get("URUNC_DAEMON_JAVA_OPTS");
        if (custom != null && !custom.isBlank()) return List.of(custom.trim().split("\\s+"));
        String launcher = env.getOrDefault("URUNC_JVM_OPTIONS", "").trim();
        List<String> options = new ArrayList<>(launcher.isEmpty()
                ? List.of("--enable-native-access=ALL-UNNAMED") : List.of(launcher.split("\\s+")));
        options.add("-Xlog:all=warning:stderr");
        return options;
    }

    static void writeAddressFile(Path bundleDir, String address) throws IOException {
        Path tmp = bundleDir.resolve("address.tmp");
        Files.writeString(tmp, address);
        try {
            Files.move(tmp, bundleDir.resolve("address"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, bundleDir.resolve("address"), StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
