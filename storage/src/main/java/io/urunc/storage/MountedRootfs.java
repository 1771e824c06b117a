package io.urunc.storage;

import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/** A container rootfs made ready by {@link RootfsMount#mount}; {@link #close} undoes the mounts (idempotent). */
public final class MountedRootfs implements AutoCloseable {
    private final Path path;
    private final int mountCount;
    private final AtomicBoolean closed = new AtomicBoolean();

    MountedRootfs(Path path, int mountCount) {
        this.path = path;
        this.mountCount = mountCount;
    }

    /** The directory holding the container's root filesystem. */
    public Path path() {
        return path;
    }

    /** Whether {@link RootfsMount#mount} mounted anything (false for a plain rootfs dir, ctr run --rootfs). */
    public boolean mounted() {
        return mountCount > 0;
    }

    /**
     * Unmounts what {@link RootfsMount#mount} mounted, newest first; a busy mount is detached lazily.
     * Safe to call more than once.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        try {
            for (int i = 0; i < mountCount; i++) {
                if (!unmountOnce(path)) break;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unmounts the top mount at {@code target}; false when nothing was mounted there. */
    static boolean unmountOnce(Path target) throws IOException {
        try {
            Libc.umount2(target.toString(), 0);
            return true;
        } catch (SysException e) {
            if (e.errno() == Errno.EINVAL || e.errno() == Errno.ENOENT) return false;
            if (e.errno() != Errno.EBUSY) throw e;
        }
        Libc.umount2(target.toString(), Libc.MNT_DETACH);
        return true;
    }

    @Override
    public String toString() {
        return "rootfs " + path + (mountCount > 0 ? " (" + mountCount + " mount(s))" : " (not mounted by us)");
    }
}
