package io.urunc.storage;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFilesTest {
    @TempDir Path tmp;
    Path rootfs;
    Path run;

    @BeforeEach
    void tree() throws Exception {
        rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        run = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(tmp.resolve("host-secret"), "HOST SECRET");
        Files.createDirectories(rootfs.resolve("boot"));
        Files.writeString(rootfs.resolve("boot/kernel"), "image kernel");
    }

    @Test
    void theImagesFileIsCopiedToTheFixedNameOwnerOnly() throws Exception {
        Path out = run.resolve("kernel");
        ImageFiles.copyOut(rootfs, "/boot/kernel", out);
        assertEquals("image kernel", Files.readString(out));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
    }

    @Test
    void symlinksAreFollowedInsideTheRootfsNeverOnTheHost() throws Exception {
        // absolute target: on the host it would be the host's file; inside the rootfs it is the image's
        Files.createSymbolicLink(rootfs.resolve("k"), tmp.resolve("host-secret"));
        assertThrows(RootfsPathException.class, () -> ImageFiles.copyOut(rootfs, "/k", run.resolve("a")));
        Files.createDirectories(rootfs.resolve(tmp.toString().substring(1)));
        Files.writeString(rootfs.resolve(tmp.resolve("host-secret").toString().substring(1)), "image file");
        ImageFiles.copyOut(rootfs, "/k", run.resolve("b"));
        assertEquals("image file", Files.readString(run.resolve("b")));
    }

    @Test
    void commasAndSpacesInTheImagesPathNeverReachTheCopysName() throws Exception {
        // QEMU's multiboot loader would read "<rootfs>/i,<host path>" as two modules
        Files.writeString(rootfs.resolve("i"), "first");
        Path hostlike = rootfs.resolve("i," + tmp.resolve("host-secret").toString().substring(0));
        Files.createDirectories(hostlike.getParent());
        Files.writeString(hostlike, "image module");
        Path out = run.resolve("initrd");
        ImageFiles.copyOut(rootfs, "/i," + tmp.resolve("host-secret"), out);
        assertEquals("image module", Files.readString(out));
    }

    @Test
    void aSymlinkSwappedInAfterResolutionFailsTheOpen() throws Exception {
        // RootfsPaths resolved boot/kernel; the image then replaces "boot" by a link to the host
        Files.move(rootfs.resolve("boot"), rootfs.resolve("boot.old"));
        Files.createSymbolicLink(rootfs.resolve("boot"), tmp);
        Files.writeString(tmp.resolve("kernel"), "HOST KERNEL");
        RootfsPathException e = assertThrows(RootfsPathException.class,
                () -> ImageFiles.openInRoot(rootfs, "boot/kernel", "/boot/kernel"));
        assertTrue(e.getMessage().startsWith("/boot/kernel: changed while being opened"), e.getMessage());
    }

    @Test
    void anExistingTargetIsNeverOverwritten() throws Exception {
        Path out = Files.writeString(run.resolve("kernel"), "ours");
        assertThrows(RootfsPathException.class, () -> ImageFiles.copyOut(rootfs, "/boot/kernel", out));
        assertEquals("ours", Files.readString(out));
    }

    @Test
    void specialFilesAndMissingFilesAreRefusedNamingThePath() throws Exception {
        io.urunc.sys.Libc.mkfifo(rootfs.resolve("fifo").toString(), 0600);
        RootfsPathException fifo = assertThrows(RootfsPathException.class,
                () -> ImageFiles.copyOut(rootfs, "/fifo", run.resolve("x")));
        assertTrue(fifo.getMessage().contains("/fifo: is a special file"), fifo.getMessage());
        RootfsPathException missing = assertThrows(RootfsPathException.class,
                () -> ImageFiles.copyOut(rootfs, "/nope", run.resolve("y")));
        assertTrue(missing.getMessage().contains("/nope: no such file"), missing.getMessage());
        assertFalse(Files.exists(run.resolve("x")));
    }

    @Test
    void aBlockImageIsOpenedInsideTheRootfsReadWriteAndItsDescriptorWritesTheImagesFile() throws Exception {
        Files.writeString(rootfs.resolve("boot/disk.img"), "0000");
        Files.createSymbolicLink(rootfs.resolve("boot/link.img"), Path.of("/boot/disk.img"));
        try (ImageFiles.OpenFile f = ImageFiles.open(rootfs, RootfsPaths.resolveRegularFile(rootfs, "/boot/link.img"), "/boot/link.img", true)) {
            try (var out = java.nio.channels.FileChannel.open(f.procPath(), java.nio.file.StandardOpenOption.WRITE)) {
                out.write(java.nio.ByteBuffer.wrap("DISK".getBytes()));
            }
        }
        assertEquals("DISK", Files.readString(rootfs.resolve("boot/disk.img")));
        // a symlink swapped in after resolving is refused, never followed to the host
        Path resolved = RootfsPaths.resolveRegularFile(rootfs, "/boot/disk.img");
        Files.delete(resolved);
        Files.createSymbolicLink(resolved, tmp.resolve("host-secret"));
        assertThrows(RootfsPathException.class, () -> ImageFiles.open(rootfs, resolved, "/boot/disk.img", true));
        assertEquals("HOST SECRET", Files.readString(tmp.resolve("host-secret")));
    }
}
