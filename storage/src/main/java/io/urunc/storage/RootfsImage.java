package io.urunc.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The container rootfs as an ext4 image, for a guest whose VMM has no shared file system (Firecracker):
 * {@code mkfs.ext4 -d <rootfs>} at Create, into the task's run dir (so it goes with it). mkfs reads the tree with
 * lstat and copies symlinks as symlinks: nothing of the host is followed. The size is the tree's plus half again
 * and {@value #HEADROOM_MIB} MiB for the guest to write, at least {@value #MIN_MIB} MiB. What the guest writes stays
 * in the image (a task's scratch), not in the container's snapshot.
 */
public final class RootfsImage {
    static final long HEADROOM_MIB = 64, MIN_MIB = 64, MIB = 1 << 20;
    /** What ext4 spends per file beyond its data, roughly: an inode and a block's rounding. */
    private static final long PER_FILE = 4096 + 256;
    public static final Path MKFS = Path.of("/usr/sbin/mkfs.ext4");

    private RootfsImage() {}

    /** Size in MiB of an image holding {@code usedBytes}. */
    public static long sizeMib(long usedBytes) {
        long mib = (usedBytes + usedBytes / 2 + MIB - 1) / MIB + HEADROOM_MIB;
        return Math.max(MIN_MIB, mib);
    }

    /** Bytes the tree under {@code root} takes (file sizes plus per-file overhead), not following symlinks. */
    public static long usedBytes(Path root) throws IOException {
        long[] total = {0};
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                total[0] += (attrs.isRegularFile() ? attrs.size() : 0) + PER_FILE;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                total[0] += PER_FILE;
                return FileVisitResult.CONTINUE;
            }
        });
        return total[0];
    }

    /** Builds {@code image} (created owner-only) from {@code rootfs}; fails with mkfs's own words. */
    public static void build(Path rootfs, Path image) throws IOException {
        long mib = sizeMib(usedBytes(rootfs));
        Files.createFile(image, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Process p = new ProcessBuilder(List.of(MKFS.toString(), "-q", "-F", "-t", "ext4", "-E", "root_owner=0:0",
                "-d", rootfs.toString(), image.toString(), mib + "M")).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        String out;
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("mkfs.ext4 of the rootfs did not finish within 5 minutes");
            }
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building the rootfs image");
        }
        if (p.exitValue() != 0) {
            Files.deleteIfExists(image);
            throw new IOException("mkfs.ext4 -d " + rootfs + " failed (status " + p.exitValue() + "): " + out);
        }
    }
}
