package io.urunc.storage;

import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/** A container rootfs made ready by {@link RootfsMount#mount}; {@link #close} undoes the mounts (idempotent). */
public final class MountedRootfs implements AutoCloseable {
    /** The file system image a block-backed rootfs was mounted from (the snapshot's file), its type, and mode. */
    public record BlockImage(Path file, String fsType, boolean readOnly) {}

    private final Path path;
    private final int mountCount;
    private final Optional<BlockImage> blockImage;
    private final AtomicBoolean closed = new AtomicBoolean();

    MountedRootfs(Path path, int mountCount, Optional<BlockImage> blockImage) {
        this.path = path;
        this.mountCount = mountCount;
        this.blockImage = blockImage;
    }

    /** A plain directory used as it is, nothing mounted (tests, ctr run --rootfs). */
    public static MountedRootfs unmounted(Path path) {
        return new MountedRootfs(path, 0, Optional.empty());
    }

    /** Whether what was mounted is still mounted (false after {@link #unmountForGuest} or {@link #close}). */
    public boolean isMounted() {
        return mountCount > 0 && !closed.get();
    }

    /** Present when the whole rootfs is one file system image on a loop device (containerd's blockfile snapshotter). */
    public Optional<BlockImage> blockImage() {
        return blockImage;
    }

    /**
     * Unmounts the rootfs now so that a guest can take its image as a disk: never lazily, for a file system
     * still mounted on the host while the guest writes the same image would be corrupted. Fails when something on
     * the host still uses it; afterwards {@link #close} has nothing left to do.
     */
    public void unmountForGuest() throws IOException {
        if (closed.get()) throw new IOException("rootfs " + path + " was already unmounted");
        for (int i = 0; i < mountCount; i++) {
            try {
                Libc.umount2(path.toString(), 0);
            } catch (SysException e) {
                throw new IOException("cannot unmount the rootfs " + path + " from the host to give it to the guest: "
                        + e.getMessage() + (e.errno() == Errno.EBUSY ? " (still in use on the host)" : ""), e);
            }
        }
        closed.set(true);
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
