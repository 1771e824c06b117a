package io.urunc.storage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RootfsMountTest {
    @TempDir Path tmp;
    Path target;

    @BeforeEach
    void setUp() {
        assumeTrue(io.urunc.sys.Libc.geteuid() == 0, "mount tests need root");
        target = tmp.resolve("bundle/rootfs");
    }

    @AfterEach
    void cleanUp() throws IOException {
        RootfsMount.unmountIfMounted(target);
    }

    private boolean mounted() throws IOException {
        return Files.isDirectory(target) && Mountinfo.isMountPoint(target.toRealPath());
    }

    private Path dir(String name, String file, String content) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(name));
        if (file != null) Files.writeString(d.resolve(file), content);
        return d;
    }

    @Test
    void overlayOfTwoLowerdirsShowsMergedTreeAndWritesGoToUpper() throws Exception {
        Path lower1 = dir("l1", "top.txt", "from l1");
        Path lower2 = dir("l2", "top.txt", "from l2");
        Files.writeString(lower2.resolve("bottom.txt"), "only l2");
        Path upper = dir("upper", null, null), work = dir("work", null, null);
        var spec = new MountSpec("overlay", "overlay", "", List.of("index=off",
                "workdir=" + work, "upperdir=" + upper, "lowerdir=" + lower1 + ":" + lower2));
        try (MountedRootfs r = RootfsMount.mount(List.of(spec), target)) {
            assertTrue(r.mounted());
            assertTrue(mounted());
            assertEquals("from l1", Files.readString(r.path().resolve("top.txt")));
            assertEquals("only l2", Files.readString(r.path().resolve("bottom.txt")));
            Files.writeString(r.path().resolve("new.txt"), "written");
            assertEquals("written", Files.readString(upper.resolve("new.txt")));
        }
        assertFalse(mounted());
        assertFalse(Files.exists(target.resolve("top.txt")));
    }

    @Test
    void bindMountShowsSourceAndCloseIsIdempotent() throws Exception {
        Path src = dir("src", "hello", "world");
        MountedRootfs r = RootfsMount.mount(List.of(new MountSpec("bind", src.toString(), "", List.of("rbind", "rw"))), target);
        assertEquals("world", Files.readString(r.path().resolve("hello")));
        r.close();
        r.close();
        assertFalse(mounted());
        assertTrue(Files.exists(src.resolve("hello")), "unmounting must not touch the source");
    }

    @Test
    void readOnlyBindRefusesWrites() throws Exception {
        Path src = dir("src", "hello", "world");
        try (MountedRootfs r = RootfsMount.mount(
                List.of(new MountSpec("bind", src.toString(), "", List.of("rbind", "ro"))), target)) {
            assertEquals("world", Files.readString(r.path().resolve("hello")));
            var e = assertThrows(IOException.class, () -> Files.writeString(r.path().resolve("x"), "y"));
            assertTrue(e.getMessage().contains("Read-only"), e.getMessage());
        }
        assertFalse(mounted());
        assertFalse(Files.exists(src.resolve("x")));
    }

    @Test
    void noMountsUsesTheDirectoryAsIs() throws Exception {
        Files.createDirectories(target);
        Files.writeString(target.resolve("f"), "plain");
        try (MountedRootfs r = RootfsMount.mount(List.of(), target)) {
            assertFalse(r.mounted());
            assertEquals("plain", Files.readString(r.path().resolve("f")));
        }
        assertTrue(Files.exists(target.resolve("f")));
    }

    @Test
    void busyMountIsDetachedOnClose() throws Exception {
        Path src = dir("src", "hello", "world");
        MountedRootfs r = RootfsMount.mount(List.of(new MountSpec("bind", src.toString(), "", List.of("bind"))), target);
        try (InputStream open = Files.newInputStream(r.path().resolve("hello"))) {
            r.close();
            assertFalse(mounted());
            assertEquals("world", new String(open.readAllBytes()), "open files keep working after a lazy detach");
        }
    }

    @Test
    void unmountIfMountedCleansUpAfterACrashAndIgnoresPlainDirs() throws Exception {
        Path src = dir("src", "hello", "world");
        RootfsMount.mount(List.of(new MountSpec("bind", src.toString(), "", List.of("bind"))), target);
        RootfsMount.mount(List.of(new MountSpec("bind", src.toString(), "", List.of("bind"))), target);
        assertTrue(mounted());
        RootfsMount.unmountIfMounted(target);
        assertFalse(mounted());
        RootfsMount.unmountIfMounted(target);
        RootfsMount.unmountIfMounted(tmp.resolve("does-not-exist"));
    }

    @Test
    void overlayWithMoreLayersThanFitInAPageIsShortened() throws Exception {
        Path snapshots = Files.createDirectories(tmp.resolve(
                "var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots"));
        List<String> lowers = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            Path fs = Files.createDirectories(snapshots.resolve(Integer.toString(1000 + i)).resolve("fs"));
            Files.writeString(fs.resolve("layer" + i), Integer.toString(i));
            lowers.add(0, fs.toString());
        }
        Path upper = dir("upper", null, null), work = dir("work", null, null);
        String lowerdir = "lowerdir=" + String.join(":", lowers);
        assertTrue(lowerdir.length() > 4096, "the test must exceed a page: " + lowerdir.length());
        var spec = new MountSpec("overlay", "overlay", "", List.of("index=off",
                "workdir=" + work, "upperdir=" + upper, lowerdir));
        try (MountedRootfs r = RootfsMount.mount(List.of(spec), target)) {
            assertEquals("0", Files.readString(r.path().resolve("layer0")));
            assertEquals("79", Files.readString(r.path().resolve("layer79")));
        }
        assertFalse(mounted());
    }

    @Test
    void failedMountNamesTheMountAndLeavesNothingMounted() throws Exception {
        Path upper = dir("upper", null, null), work = dir("work", null, null);
        var spec = new MountSpec("overlay", "overlay", "", List.of(
                "workdir=" + work, "upperdir=" + upper, "lowerdir=" + tmp.resolve("missing")));
        var e = assertThrows(IOException.class, () -> RootfsMount.mount(List.of(spec), target));
        assertTrue(e.getMessage().contains("cannot mount rootfs (mount type=overlay"), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
        assertFalse(mounted());
    }

    /** Loop devices bound to {@code file}, from sysfs. */
    private static List<String> loopsOf(Path file) throws IOException {
        List<String> found = new ArrayList<>();
        try (var s = Files.list(Path.of("/sys/block"))) {
            for (Path dev : s.filter(p -> p.getFileName().toString().startsWith("loop")).toList()) {
                Path backing = dev.resolve("loop/backing_file");
                if (Files.exists(backing) && Files.readString(backing).strip().equals(file.toString())) found.add(dev.toString());
            }
        }
        return found;
    }

    private Path ext4Image(String name, String file, String content) throws Exception {
        Path tree = dir(name + "-tree", file, content);
        Path image = tmp.resolve(name + ".ext4");
        Process p = new ProcessBuilder("mkfs.ext4", "-q", "-F", "-d", tree.toString(), image.toString(), "8M")
                .redirectErrorStream(true).start();
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes()));
        return image.toRealPath();
    }

    @Test
    void aBlockfileMountIsALoopDeviceThatGoesWithTheMountAndNamesItsImage() throws Exception {
        Path image = ext4Image("snap", "etc.conf", "in the image");
        var spec = new MountSpec("ext4", image.toString(), "", List.of("rw", "loop"));
        try (MountedRootfs r = RootfsMount.mount(List.of(spec), target)) {
            assertEquals("in the image", Files.readString(r.path().resolve("etc.conf")));
            Files.writeString(r.path().resolve("host.txt"), "written through the loop device");
            assertEquals(1, loopsOf(image).size(), "one loop device over the image");
            assertEquals(new MountedRootfs.BlockImage(image, "ext4", false), r.blockImage().orElseThrow());
        }
        assertFalse(mounted());
        assertEquals(List.of(), loopsOf(image), "the autoclear loop device went with the unmount");
        Process debugfs = new ProcessBuilder("debugfs", "-R", "cat /host.txt", image.toString()).start();
        assertTrue(new String(debugfs.getInputStream().readAllBytes()).contains("written through the loop device"));
    }

    @Test
    void unmountForGuestUnmountsNowAndRefusesWhileTheHostStillUsesIt() throws Exception {
        Path image = ext4Image("busy", "f", "x");
        MountedRootfs r = RootfsMount.mount(List.of(new MountSpec("ext4", image.toString(), "", List.of("loop"))), target);
        try (InputStream open = Files.newInputStream(r.path().resolve("f"))) {
            var e = assertThrows(IOException.class, r::unmountForGuest);
            assertTrue(e.getMessage().contains("still in use on the host"), e.getMessage());
            assertTrue(mounted() && r.isMounted(), "a busy rootfs is not detached lazily behind the guest's back");
        }
        r.unmountForGuest();
        assertFalse(mounted() || r.isMounted());
        assertEquals(List.of(), loopsOf(image));
        r.close(); // nothing left to do
    }

    @Test
    void onlyARootfsOfOneLoopMountIsBlockBacked() {
        assertTrue(RootfsMount.blockImage(List.of(new MountSpec("ext4", "/s/1", "", List.of("ro", "loop")))).orElseThrow().readOnly());
        assertTrue(RootfsMount.blockImage(List.of(new MountSpec("bind", "/s/1", "", List.of("rbind")))).isEmpty());
        assertTrue(RootfsMount.blockImage(List.of(new MountSpec("ext4", "/dev/mapper/x", "", List.of("rw")))).isEmpty(),
                "a device (devmapper) is not handed on: not built");
        var loop = new MountSpec("ext4", "/s/1", "", List.of("loop"));
        assertTrue(RootfsMount.blockImage(List.of(loop, loop)).isEmpty());
    }

    @Test
    void optionsSplitIntoFlagsPropagationAndData() {
        var o = MountOptions.parse(List.of("rbind", "ro", "nosuid", "rprivate", "index=off", "rw", "ro"));
        assertEquals(MountOptions.MS_BIND | MountOptions.MS_REC | MountOptions.MS_RDONLY | MountOptions.MS_NOSUID, o.flags());
        assertEquals(MountOptions.MS_PRIVATE | MountOptions.MS_REC, o.propagation());
        assertEquals(List.of("index=off"), o.data());
    }

    @Test
    void mountinfoEscapesAreDecoded() {
        assertEquals("/a b\\c", Mountinfo.unescape("/a\\040b\\134c"));
    }
}
