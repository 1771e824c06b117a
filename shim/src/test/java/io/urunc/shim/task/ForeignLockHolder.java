package io.urunc.shim.task;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Another process holding a POSIX record lock, as another shim process takes it: what a daemon in the middle of a
 * Create looks like to {@code shim delete} (a task's byte of its namespace lock file), or a {@code start} looking
 * for a daemon (the whole start lock file).
 */
public final class ForeignLockHolder implements AutoCloseable {
    private static final String HOLD = """
            import fcntl, os, sys
            os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
            f = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
            fcntl.lockf(f, fcntl.LOCK_EX, int(sys.argv[3]), int(sys.argv[2]))
            print("locked", flush=True)
            sys.stdin.read()
            """;
    private final Process process;

    private ForeignLockHolder(Path file, long offset, long length) throws IOException {
        process = new ProcessBuilder("python3", "-c", HOLD, file.toString(), Long.toString(offset), Long.toString(length))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] line = process.getInputStream().readNBytes(7);
        if (!new String(line, StandardCharsets.UTF_8).equals("locked\n")) throw new IOException("lock holder failed");
    }

    /** Holds the lock of one task, as {@link TaskLocks} takes it. */
    public ForeignLockHolder(Path stateDir, String namespace, String id) throws IOException {
        this(stateDir.resolve("locks").resolve(namespace), TaskLocks.slot(id), 1);
    }

    /** Holds a lock on all of {@code file}. */
    public static ForeignLockHolder wholeFile(Path file) throws IOException {
        return new ForeignLockHolder(file, 0, 0);
    }

    @Override
    public void close() throws IOException {
        process.getOutputStream().close();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
