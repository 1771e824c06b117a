package io.urunc.shim.vm;

import io.urunc.sys.HostNamespaces;
import io.urunc.sys.Libc;
import io.urunc.vmm.BackendProcess;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Starts the processes a VMM needs before it ({@link BackendProcess}: virtiofsd), in the task's cgroup with a clean
 * environment, and waits until each listens on its socket. Their output goes to {@code <name>.log} beside the socket
 * (root-only), quoted in the error when one fails to come up.
 */
public final class Backends {
    static final Duration READY_TIMEOUT = Duration.ofSeconds(10);

    /** One started backend, named by its identity so that a delete after a crash can still stop it. */
    public record Running(BackendProcess spec, Process process, ProcessIdentity identity) {
        /** Kills it and waits (bounded) until it is gone. */
        public void stop() throws IOException {
            if (process.isAlive()) identity.signal(Libc.SIGKILL);
            try {
                process.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IOException(spec.name() + " (pid " + identity.pid() + ") did not stop: " + e.getMessage());
            }
        }
    }

    private Backends() {}

    /** Starts them all, then waits for every socket; on failure the ones started are stopped again. */
    public static List<Running> start(List<BackendProcess> specs, Optional<Cgroup> cgroup) throws IOException {
        List<Running> started = new ArrayList<>();
        try {
            for (BackendProcess b : specs) started.add(launch(b, cgroup));
            long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
            for (Running r : started) awaitSocket(r, deadline);
            return List.copyOf(started);
        } catch (IOException | RuntimeException e) {
            for (Running r : started) {
                try {
                    r.stop();
                } catch (IOException ignored) {
                    // reported by the failure itself
                }
            }
            throw e;
        }
    }

    private static Running launch(BackendProcess b, Optional<Cgroup> cgroup) throws IOException {
        // a socket left by an earlier VMM launch of the same task (its backend has ended) would make the bind fail
        Files.deleteIfExists(b.socket());
        Path log = logOf(b);
        Files.deleteIfExists(log);
        Files.createFile(log, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        ProcessBuilder pb = new ProcessBuilder(VmProcess.inCgroup(cgroup, b.argv()))
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        HostNamespaces.requireOnHost(b.name());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot execute " + b.argv().getFirst() + " for " + b.name() + ": " + e.getMessage(), e);
        }
        return new Running(b, p, ProcessIdentity.of(p.pid()).orElse(new ProcessIdentity(p.pid(), 0, "")));
    }

    /**
     * Until the socket listens: its file appears at bind(), a moment before listen(), and a VMM connecting in
     * between would be refused. (Connecting to check would be taken for the VMM: virtiofsd serves one connection.)
     */
    private static void awaitSocket(Running r, long deadline) throws IOException {
        while (!listening(r.spec().socket())) {
            if (!r.process().isAlive())
                throw new IOException(r.spec().name() + " exited with status " + r.process().exitValue() + " before listening: " + logTail(r.spec()));
            if (System.nanoTime() > deadline)
                throw new IOException(r.spec().name() + " did not listen on " + r.spec().socket() + " within " + READY_TIMEOUT.toSeconds() + " s: " + logTail(r.spec()));
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + r.spec().name());
            }
        }
    }

    /** Whether a unix socket bound at {@code path} in this network namespace listens (__SO_ACCEPTCON). */
    static boolean listening(Path path) throws IOException {
        String p = path.toString();
        for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
            String[] f = line.trim().split("\\s+", 8);
            if (f.length == 8 && f[7].equals(p) && (Long.parseLong(f[3], 16) & 0x10000) != 0) return true;
        }
        return false;
    }

    static Path logOf(BackendProcess b) {
        return b.socket().resolveSibling(b.name() + ".log");
    }

    private static String logTail(BackendProcess b) {
        try {
            String s = Files.readString(logOf(b)).strip();
            return s.isEmpty() ? "(no output)" : s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "(no output)";
        }
    }
}
