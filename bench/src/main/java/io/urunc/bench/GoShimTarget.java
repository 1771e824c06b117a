package io.urunc.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Go {@code containerd-shim-runc-v2} started through {@code start} with a private namespace and
 * -address (no containerd involved), serving Connect; {@link #close} stops it and removes its socket.
 */
final class GoShimTarget implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/containerd-shim-runc-v2");

    private final Path bundle;
    private final String namespace;
    private final String id;
    private final Path socket;
    private final boolean runDirExisted;
    private final java.io.RandomAccessFile log;

    private GoShimTarget(Path bundle, String namespace, String id, Path socket, boolean runDirExisted,
            java.io.RandomAccessFile log) {
        this.log = log;
        this.bundle = bundle;
        this.namespace = namespace;
        this.id = id;
        this.socket = socket;
        this.runDirExisted = runDirExisted;
    }

    static Optional<String> unavailableReason() {
        if (!Files.isExecutable(BINARY)) {
            return Optional.of(BINARY + " is not installed");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("the Go shim needs root (it binds under /run/containerd/s)");
        }
        return Optional.empty();
    }

    static GoShimTarget start() throws IOException, InterruptedException {
        boolean runDirExisted = Files.exists(Path.of("/run/containerd"));
        String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path bundle = Files.createTempDirectory("urunc-bench-bundle");
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"annotations\":{}}");
        // As containerd does: a "log" FIFO in the bundle that someone reads, or the daemon's logging stalls it.
        Path fifo = bundle.resolve("log");
        new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        java.io.RandomAccessFile log = new java.io.RandomAccessFile(fifo.toFile(), "rw");
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buffer = new byte[8192];
            try {
                while (log.read(buffer) > 0) {
                    // discard
                }
            } catch (IOException closed) {
                // closed by close()
            }
        });
        String namespace = "urunc-bench-" + suffix;
        String id = "bench-" + suffix;
        ProcessBuilder builder = new ProcessBuilder(BINARY.toString(), "-namespace", namespace,
                "-address", bundle.resolve("containerd.sock").toString(), "-publish-binary", "/bin/false", "-id", id, "start")
                .directory(bundle.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true);
        builder.environment().put("TTRPC_ADDRESS", bundle.resolve("events.sock").toString());
        Process start = builder.start();
        String output = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        start.waitFor(10, TimeUnit.SECONDS);
        if (!output.startsWith("unix://")) {
            log.close();
            throw new IOException("containerd-shim-runc-v2 start failed: " + output);
        }
        return new GoShimTarget(bundle, namespace, id, Path.of(output.substring("unix://".length())), runDirExisted, log);
    }

    Path socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        String marker = "-namespace " + namespace + " -id " + id;
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.startsWith(BINARY.toString()) && c.contains(marker)).orElse(false))
                .forEach(p -> {
                    p.destroy();
                    if (!p.onExit().completeOnTimeout(p, 3, TimeUnit.SECONDS).join().isAlive()) {
                        return;
                    }
                    p.destroyForcibly();
                });
        Files.deleteIfExists(socket);
        log.close();
        if (!runDirExisted) {
            for (String dir : new String[] {"/run/containerd/s", "/run/containerd/runc", "/run/containerd"}) {
                try {
                    Files.deleteIfExists(Path.of(dir));
                } catch (IOException notEmpty) {
                    // holds someone else's files
                }
            }
        }
        try (var paths = Files.walk(bundle)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
