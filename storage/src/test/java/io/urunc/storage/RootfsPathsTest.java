package io.urunc.storage;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RootfsPathsTest {
    @TempDir Path tmp;
    Path rootfs;

    @BeforeEach
    void tree() throws Exception {
        rootfs = Files.createDirectories(tmp.resolve("rootfs"));
        // a file outside the rootfs with the same relative name as an in-rootfs one: escaping would find it
        Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(tmp.resolve("etc/shadow"), "host secret");
        Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(rootfs.resolve("etc/shadow"), "guest");
        Files.createDirectories(rootfs.resolve("unikernel"));
        Files.writeString(rootfs.resolve("unikernel/app.qemu"), "kernel");
    }

    @Test
    void plainAbsoluteAndRelativePathsResolveUnderTheRoot() throws Exception {
        assertEquals(rootfs.resolve("unikernel/app.qemu"), RootfsPaths.resolve(rootfs, "/unikernel/app.qemu"));
        assertEquals(rootfs.resolve("unikernel/app.qemu"), RootfsPaths.resolve(rootfs, "unikernel/./app.qemu"));
        assertEquals(rootfs.resolve("unikernel/app.qemu"), RootfsPaths.resolve(rootfs, "//unikernel//x/../app.qemu"));
        assertEquals(rootfs, RootfsPaths.resolve(rootfs, "/"));
    }

    @Test
    void dotDotAboveTheRootIsRejected() {
        var e = assertThrows(PathEscapeException.class, () -> RootfsPaths.resolve(rootfs, "../../etc/passwd"));
        assertTrue(e.getMessage().startsWith("../../etc/passwd: "), e.getMessage());
        assertThrows(PathEscapeException.class, () -> RootfsPaths.resolve(rootfs, "/../.."));
        assertThrows(PathEscapeException.class, () -> RootfsPaths.resolve(rootfs, "/unikernel/../../etc/shadow"));
    }

    @Test
    void absoluteSymlinkIsReRootedAtTheRootfs() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("unikernel/evil"), Path.of("/etc/shadow"));
        Path p = RootfsPaths.resolveRegularFile(rootfs, "/unikernel/evil");
        assertEquals(rootfs.resolve("etc/shadow"), p);
        assertEquals("guest", Files.readString(p));
    }

    @Test
    void relativeSymlinkClimbingOutIsRejected() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("unikernel/up"), Path.of("../../etc/shadow"));
        var e = assertThrows(PathEscapeException.class, () -> RootfsPaths.resolve(rootfs, "/unikernel/up"));
        assertTrue(e.getMessage().contains("/unikernel/up"), e.getMessage());
    }

    @Test
    void symlinkedDirectoryFollowedByDotDotStaysInside() throws Exception {
        // /lib -> /usr/lib ; /lib/../etc/shadow must be /usr/etc/shadow, as the kernel would see it
        Files.createDirectories(rootfs.resolve("usr/lib"));
        Files.createDirectories(rootfs.resolve("usr/etc"));
        Files.writeString(rootfs.resolve("usr/etc/shadow"), "usr");
        Files.createSymbolicLink(rootfs.resolve("lib"), Path.of("/usr/lib"));
        assertEquals(rootfs.resolve("usr/etc/shadow"), RootfsPaths.resolveRegularFile(rootfs, "/lib/../etc/shadow"));
    }

    @Test
    void symlinkChainsAreFollowed() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("a"), Path.of("b"));
        Files.createSymbolicLink(rootfs.resolve("b"), Path.of("/c/d"));
        Files.createDirectories(rootfs.resolve("c"));
        Files.createSymbolicLink(rootfs.resolve("c/d"), Path.of("../unikernel"));
        assertEquals(rootfs.resolve("unikernel/app.qemu"), RootfsPaths.resolveRegularFile(rootfs, "/a/app.qemu"));
    }

    @Test
    void symlinkLoopsFailClearly() throws Exception {
        Files.createSymbolicLink(rootfs.resolve("loop1"), Path.of("loop2"));
        Files.createSymbolicLink(rootfs.resolve("loop2"), Path.of("/loop1"));
        var e = assertThrows(RootfsPathException.class, () -> RootfsPaths.resolve(rootfs, "/loop1/x"));
        assertTrue(e.getMessage().contains("too many levels of symbolic links"), e.getMessage());
    }

    @Test
    void regularFileRequirementReportsMissingAndDirectories() throws Exception {
        var missing = assertThrows(RootfsPathException.class, () -> RootfsPaths.resolveRegularFile(rootfs, "/x"));
        assertEquals("/x: no such file in the container rootfs", missing.getMessage());
        var dir = assertThrows(RootfsPathException.class, () -> RootfsPaths.resolveRegularFile(rootfs, "/unikernel"));
        assertTrue(dir.getMessage().startsWith("/unikernel: is a directory"), dir.getMessage());
        Files.createSymbolicLink(rootfs.resolve("dangling"), Path.of("/nowhere"));
        var dangling = assertThrows(RootfsPathException.class, () -> RootfsPaths.resolveRegularFile(rootfs, "/dangling"));
        assertEquals("/dangling: no such file in the container rootfs", dangling.getMessage());
    }

    @Test
    void nulBytesAndEmptyPathsAreRejected() {
        var e = assertThrows(RootfsPathException.class, () -> RootfsPaths.resolve(rootfs, "/unikernel/app\0.qemu"));
        assertTrue(e.getMessage().contains("NUL"), e.getMessage());
        assertThrows(RootfsPathException.class, () -> RootfsPaths.resolve(rootfs, ""));
    }
}
