package io.urunc.shim.task;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Another process holding a task's lock as {@link TaskLocks} takes it (POSIX record lock on the task's byte of the
 * namespace lock file): what a daemon in the middle of a Create looks like to {@code shim delete}, and back.
 */
public final class ForeignLockHolder implements AutoCloseable {
    private static final String HOLD = """
            import fcntl, hashlib, os, sys
            os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
            f = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
            off = int.from_bytes(hashlib.sha256(sys.argv[2].encode()).digest()[:8], 'big') & 0x3fffffffffffffff
            fcntl.lockf(f, fcntl.LOCK_EX, 1, off)
            print("locked", flush=True)
            sys.stdin.read()
            """;
    private final Process process;

    public ForeignLockHolder(Path stateDir, String namespace, String id) throws IOException {
        process = new ProcessBuilder("python3", "-c", HOLD,
                stateDir.resolve("locks").resolve(namespace).toString(), id)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] line = process.getInputStream().readNBytes(7);
        if (!new String(line, StandardCharsets.UTF_8).equals("locked\n")) throw new IOException("lock holder failed");
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
