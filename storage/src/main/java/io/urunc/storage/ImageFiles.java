package io.urunc.storage;

import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;

/**
 * Hands a file that an untrusted image names to a VMM without ever giving the VMM a path from the image.
 *
 * <p>A path inside the rootfs is not safe to pass on: the VMM resolves it again on the host, where the image's
 * symlinks are followed against the host's root and some options parse the string (QEMU's multiboot loader reads
 * {@code -initrd} as a comma-separated module list and cuts each name at a space, so {@code /i,/etc/shadow}
 * loads a host file into the guest). So the file is opened here, inside the rootfs, by a descriptor that
 * cannot leave it ({@code openat2} with {@code RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV} on the path {@link RootfsPaths} already resolved, so a symlink swapped in afterwards fails
 * the open; an {@code O_NOFOLLOW} walk on kernels without openat2), checked to be a regular file through that
 * descriptor, and copied to a file with a fixed name in the task's private run dir. The VMM only ever sees
 * that name.
 */
public final class ImageFiles {
    private static final long RESOLVE = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS
            | Libc.RESOLVE_NO_XDEV;
    private static final int OPEN_FLAGS = Libc.O_RDONLY | Libc.O_CLOEXEC | Libc.O_NOCTTY | Libc.O_NONBLOCK | Libc.O_NOFOLLOW;

    private ImageFiles() {}

    /**
     * Copies the regular file {@code pathFromImage} names inside {@code rootfs} to {@code target}, which must not
     * exist yet (created owner-only). Errors name the image's path and what is wrong with it.
     */
    public static void copyOut(Path rootfs, String pathFromImage, Path target) throws RootfsPathException {
        copyOut(rootfs, RootfsPaths.resolveRegularFile(rootfs, pathFromImage), pathFromImage, target);
    }

    /**
     * As {@link #copyOut(Path, String, Path)} for a path {@link RootfsPaths#resolveRegularFile} already resolved
     * ({@code resolved}, inside {@code rootfs}); {@code pathFromImage} names it in errors.
     */
    public static void copyOut(Path rootfs, Path resolved, String pathFromImage, Path target) throws RootfsPathException {
        String inRoot = rootfs.relativize(resolved).toString();
        int fd = openInRoot(rootfs, inRoot, pathFromImage);
        Path byFd = Path.of("/proc/self/fd/" + fd);
        try {
            if (!Files.readAttributes(byFd, BasicFileAttributes.class).isRegularFile()) {
                throw new RootfsPathException(pathFromImage, "changed while being opened: no longer a regular file");
            }
            try (FileChannel in = FileChannel.open(byFd, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(target, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                         PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                long size = in.size();
                for (long done = 0; done < size; ) {
                    long n = in.transferTo(done, size - done, out);
                    if (n <= 0) break; // the file shrank under us: what is there is what the guest gets
                    done += n;
                }
            }
        } catch (RootfsPathException e) {
            throw e;
        } catch (IOException e) {
            throw new RootfsPathException(pathFromImage, "cannot copy it out of the container rootfs: " + e.getMessage());
        } finally {
            Libc.close(fd);
        }
    }

    /**
     * An open descriptor of the regular file {@code resolved} ({@link RootfsPaths#resolveRegularFile}, inside
     * {@code rootfs}), read-write when {@code writable}: for a VMM that gets the file itself rather than a copy (a
     * block image, whose writes belong in the container's snapshot), passed to it as a descriptor. The caller
     * closes it.
     */
    public static OpenFile open(Path rootfs, Path resolved, String pathFromImage, boolean writable) throws RootfsPathException {
        int fd = openInRoot(rootfs, rootfs.relativize(resolved).toString(), pathFromImage,
                (OPEN_FLAGS & ~Libc.O_RDONLY) | (writable ? Libc.O_RDWR : Libc.O_RDONLY));
        try {
            if (!Files.readAttributes(Path.of("/proc/self/fd/" + fd), BasicFileAttributes.class).isRegularFile()) {
                throw new RootfsPathException(pathFromImage, "changed while being opened: no longer a regular file");
            }
        } catch (IOException e) {
            Libc.close(fd);
            if (e instanceof RootfsPathException r) throw r;
            throw new RootfsPathException(pathFromImage, "cannot be examined: " + e.getMessage());
        }
        return new OpenFile(fd);
    }

    /**
     * A host block device the container's creator bound into the container (a trusted path), opened for a VMM that
     * gets it as a descriptor, read-write when {@code writable}.
     */
    public static OpenFile openBlockDevice(Path device, boolean writable) throws IOException {
        return openHostFile(device, writable, "block device");
    }

    /** A host file named by a trusted party (the container's creator, containerd), opened for a VMM; {@code what} names it. */
    public static OpenFile openHostFile(Path file, boolean writable, String what) throws IOException {
        int fd;
        try {
            fd = Libc.open(file.toString(), (writable ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_CLOEXEC | Libc.O_NOCTTY, 0);
        } catch (SysException e) {
            throw new IOException("cannot open " + what + " " + file + ": " + e.getMessage());
        }
        return new OpenFile(fd);
    }

    /** A descriptor this process holds, closed once. */
    public static final class OpenFile implements AutoCloseable {
        private final int fd;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

        OpenFile(int fd) { this.fd = fd; }

        /** {@code /proc/<this process>/fd/<n>}: re-opening it gives this same file, whatever its path has become. */
        public Path procPath() { return Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/" + fd); }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) Libc.close(fd);
        }
    }

    /** A read-only descriptor for {@code inRoot} (relative, symlink-free) that cannot resolve outside {@code rootfs}. */
    static int openInRoot(Path rootfs, String inRoot, String pathFromImage) throws RootfsPathException {
        return openInRoot(rootfs, inRoot, pathFromImage, OPEN_FLAGS);
    }

    private static int openInRoot(Path rootfs, String inRoot, String pathFromImage, int flags) throws RootfsPathException {
        int root;
        try {
            root = Libc.open(rootfs.toString(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new RootfsPathException(pathFromImage, "cannot open the container rootfs " + rootfs + ": " + e.getMessage());
        }
        try {
            try {
                return Libc.openat2(root, inRoot, flags, RESOLVE, pathFromImage);
            } catch (SysException e) {
                if (e.errno() != Errno.ENOSYS) throw e;
                return walkNoFollow(root, inRoot, pathFromImage, flags);
            }
        } catch (SysException e) {
            String why = switch (e.errno()) {
                case Errno.ELOOP -> "changed while being opened: a symbolic link appeared on its path";
                case Errno.EXDEV -> "is on another mount inside the container rootfs";
                case Errno.ENOENT -> "disappeared from the container rootfs while being opened";
                default -> "cannot be opened inside the container rootfs: " + e.getMessage();
            };
            throw new RootfsPathException(pathFromImage, why);
        } finally {
            Libc.close(root);
        }
    }

    /** Kernels before 5.6: one component at a time, never following a symlink. */
    private static int walkNoFollow(int root, String inRoot, String pathFromImage, int flags) throws SysException {
        String[] names = inRoot.split("/");
        int dir = root;
        try {
            for (int i = 0; i < names.length - 1; i++) {
                int next = Libc.openat(dir, names[i], Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0,
                        pathFromImage);
                if (dir != root) Libc.close(dir);
                dir = next;
            }
            return Libc.openat(dir, names[names.length - 1], flags, 0, pathFromImage);
        } finally {
            if (dir != root) Libc.close(dir);
        }
    }
}
