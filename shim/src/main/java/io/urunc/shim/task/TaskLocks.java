package io.urunc.shim.task;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * A lock per task, shared by the daemon (Create, Delete) and {@code shim delete} (another process), so that a
 * delete never unmounts or kills under a Create still setting the task up. Each task locks one byte of its
 * namespace's lock file, at an offset from a hash of its id: the file is never removed (no unlink race) and
 * there is one per namespace, not one per task ever run. POSIX record locks are released when the process
 * closes any descriptor of the file, so a process keeps one channel per file open for as long as it lives.
 */
public final class TaskLocks {
    private static final long POLL_MS = 50;

    private final Path root;
    private final Map<Path, FileChannel> channels = new HashMap<>();

    public TaskLocks(Path stateDir) {
        this.root = stateDir.resolve("locks");
    }

    /** A held task lock. */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /** Waits up to {@code timeout} for the task's lock; fails naming the task if someone holds it longer. */
    public Held acquire(String namespace, String id, Duration timeout) throws IOException {
        FileChannel channel = channel(root.resolve(namespace));
        long slot = slot(id);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            FileLock lock = tryLock(channel, slot);
            if (lock != null) {
                return () -> {
                    try {
                        lock.release();
                    } catch (IOException ignored) {
                        // the channel is gone: so is the lock
                    }
                };
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("task " + namespace + "/" + id + " is busy: a create or delete of it has held"
                        + " its lock for more than " + timeout.toSeconds() + " s");
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the lock of task " + namespace + "/" + id);
            }
        }
    }

    private static FileLock tryLock(FileChannel channel, long slot) throws IOException {
        try {
            return channel.tryLock(slot, 1, false);
        } catch (OverlappingFileLockException heldInThisProcess) {
            return null;
        }
    }

    private synchronized FileChannel channel(Path file) throws IOException {
        FileChannel c = channels.get(file);
        if (c == null || !c.isOpen()) {
            Files.createDirectories(file.getParent());
            c = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channels.put(file, c);
        }
        return c;
    }

    static long slot(String id) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) v = (v << 8) | (h[i] & 0xff);
            return v & 0x3fff_ffff_ffff_ffffL;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
