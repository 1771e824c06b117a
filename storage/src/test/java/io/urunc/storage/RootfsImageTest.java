package io.urunc.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class RootfsImageTest {
    @Test
    void theImageIsTheTreePlusHalfAgainAndHeadroom() {
        assertEquals(64, RootfsImage.sizeMib(0));
        assertEquals(64 + 150, RootfsImage.sizeMib(100L << 20));
    }

    /** Real mkfs.ext4; the content is read back with debugfs. A symlink to a host file stays a symlink. */
    @Test
    void theRootfsTreeIsInTheImageAndSymlinksAreNotFollowed(@TempDir Path dir) throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/etc"));
        Files.writeString(rootfs.resolve("app.conf"), "from-the-rootfs\n");
        Files.writeString(dir.resolve("host-secret"), "HOST SECRET\n");
        Files.createSymbolicLink(rootfs.resolve("leak"), dir.resolve("host-secret"));
        Path image = dir.resolve("rootfs.ext4");
        RootfsImage.build(dir.resolve("rootfs"), image);
        assertEquals(65L << 20, Files.size(image), "a few KiB of files: 1 MiB rounded up plus 64 MiB headroom");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(image)));
        assertEquals("from-the-rootfs\n", debugfs(image, "cat /etc/app.conf"));
        assertFalse(debugfs(image, "cat /etc/leak").contains("HOST SECRET"));
        assertTrue(debugfs(image, "stat /etc/leak").contains("Type: symlink"));
    }

    @Test
    void aFailingMkfsIsReportedAndLeavesNoImage(@TempDir Path dir) {
        Path image = dir.resolve("rootfs.ext4");
        var e = assertThrows(java.io.IOException.class, () -> RootfsImage.build(dir.resolve("missing"), image));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertFalse(Files.exists(image));
    }

    private static String debugfs(Path image, String request) throws Exception {
        Process p = new ProcessBuilder("debugfs", "-R", request, image.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new String(p.getInputStream().readAllBytes());
    }
}
