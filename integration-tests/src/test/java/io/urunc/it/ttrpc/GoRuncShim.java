package io.urunc.it.ttrpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code containerd-shim-runc-v2} (a Go ttrpc server) started through the shim v2 {@code start} contract
 * with a private namespace and {@code -address}, so no real containerd is touched; {@link #close} removes the
 * daemon, its socket, runc state and the log FIFO reader.
 */
final class GoRuncShim implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/containerd-shim-runc-v2");

    private final String namespace;
    private final String id;
    private final Path socket;
    private final RandomAccessFile logFifo;
    private final Thread logDrain;
    private final StringBuffer log;
    private final boolean socketDirExisted;

    private GoRuncShim(String namespace, String id, Path socket, RandomAccessFile logFifo, Thread logDrain,
            StringBuffer log, boolean socketDirExisted) {
        this.log = log;
        this.namespace = namespace;
        this.id = id;
        this.socket = socket;
        this.logFifo = logFifo;
        this.logDrain = logDrain;
        this.socketDirExisted = socketDirExisted;
    }

    /**
     * Runs {@code containerd-shim-runc-v2 ... start} in {@code bundle} and returns once it printed its address.
     *
     * @param fakeContainerdAddress only hashed into the socket name: nothing listens there
     * @param eventsAddress TTRPC_ADDRESS, where the shim forwards its events
     */
    static GoRuncShim start(Path bundle, String namespace, String id, Path fakeContainerdAddress, Path eventsAddress)
            throws IOException, InterruptedException {
        boolean socketDirExisted = Files.isDirectory(Path.of("/run/containerd/s"));
        // The daemon opens the bundle's "log" FIFO as its log; containerd reads it, so do we.
        Path fifo = bundle.resolve("log");
        run(List.of("mkfifo", fifo.toString()));
        RandomAccessFile reader = new RandomAccessFile(fifo.toFile(), "rw"); // O_RDWR: never blocks, never EOF
        StringBuffer logText = new StringBuffer();
        Thread drain = Thread.ofPlatform().daemon().name("go-shim-log").start(() -> {
            byte[] buffer = new byte[8192];
            try {
                for (int n; (n = reader.read(buffer)) > 0; ) {
                    logText.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
                }
            } catch (IOException closed) {
                // reader closed by close()
            }
        });
        ProcessBuilder builder = new ProcessBuilder(BINARY.toString(), "-namespace", namespace,
                "-address", fakeContainerdAddress.toString(), "-publish-binary", "/bin/false", "-id", id, "start")
                .directory(bundle.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true);
        builder.environment().put("TTRPC_ADDRESS", eventsAddress.toString());
        Process start = builder.start();
        String output = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!start.waitFor(10, TimeUnit.SECONDS) || start.exitValue() != 0 || !output.startsWith("unix://")) {
            start.destroyForcibly();
            reader.close();
            throw new IOException("containerd-shim-runc-v2 start failed (exit " + (start.isAlive() ? "?" : start.exitValue())
                    + "): " + output);
        }
        GoRuncShim shim = new GoRuncShim(namespace, id, Path.of(output.substring("unix://".length())), reader,
                drain, logText, socketDirExisted);
        return shim;
    }

    Path socket() {
        return socket;
    }

    Path runcRoot() {
        return Path.of("/run/containerd/runc", namespace);
    }

    /** The daemon this test started: the only process running with our unique namespace and id. */
    private java.util.Optional<ProcessHandle> daemon() {
        String marker = "-namespace " + namespace + " -id " + id;
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.startsWith(BINARY.toString()) && c.contains(marker)).orElse(false))
                .findFirst();
    }

    @Override
    public void close() throws IOException {
        // Ends the daemon if Shutdown did not, then removes what it left behind.
        daemon().ifPresent(process -> {
            try {
                process.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception stillRunning) {
                process.destroyForcibly();
                process.onExit().completeOnTimeout(process, 5, TimeUnit.SECONDS).join();
            }
        });
        if (Files.isDirectory(runcRoot())) {
            try {
                run(List.of("runc", "--root", runcRoot().toString(), "delete", "--force", id));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deleteTree(runcRoot());
        }
        Files.deleteIfExists(socket);
        if (!socketDirExisted) {
            deleteIfEmpty(Path.of("/run/containerd/s"));
            deleteIfEmpty(Path.of("/run/containerd/runc"));
            deleteIfEmpty(Path.of("/run/containerd"));
        }
        logFifo.close();
        try {
            logDrain.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String log() {
        return log.toString();
    }

    private static void deleteIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException notEmpty) {
            // someone else's files: leave them
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        try (InputStream out = process.getInputStream()) {
            String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(30, TimeUnit.SECONDS);
            return text;
        }
    }
}
