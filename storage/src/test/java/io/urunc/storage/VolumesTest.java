package io.urunc.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VolumesTest {
    private static Volumes.SpecMount bind(String dst, Path src, String... options) {
        return new Volumes.SpecMount(dst, "bind", src.toString(), List.of(options));
    }

    @Test
    void directoryBindsAreVolumesAndTheLastOfRoRwWins(@TempDir Path dir) throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), b);
        var s = Volumes.select(List.of(bind("/data", a, "rbind", "rw"), bind("/etc/app/", link, "rbind", "ro"),
                bind("/x", a, "ro", "rw"), new Volumes.SpecMount("/y", "none", a.toString(), List.of("rbind", "ro"))));
        assertEquals(List.of(new Volumes.Volume(a, "/data", false), new Volumes.Volume(b, "/etc/app", true),
                new Volumes.Volume(a, "/x", false), new Volumes.Volume(a, "/y", true)), s.volumes());
        assertEquals(List.of(), s.skipped());
    }

    /** What docker, CRI and every runtime add on their own: kernel file systems, /dev binds, single files. */
    @Test
    void kernelFileSystemsDevBindsAndFilesAreLeftOutFilesWithAReason(@TempDir Path dir) throws Exception {
        Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n");
        Path shm = Files.createDirectories(dir.resolve("shm"));
        var s = Volumes.select(List.of(new Volumes.SpecMount("/proc", "proc", "proc", List.of()),
                new Volumes.SpecMount("/dev", "tmpfs", "tmpfs", List.of("nosuid")),
                new Volumes.SpecMount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("ro")),
                bind("/dev/shm", shm, "rbind"), bind("/dev/termination-log", hosts, "rbind"),
                bind("/etc/hosts", hosts, "rbind", "rw")));
        assertEquals(List.of(), s.volumes());
        assertEquals(List.of("/etc/hosts (a file: only directories are shared with the guest)"), s.skipped());
    }

    @Test
    void aMissingSourceARelativeOneOrTheRootAsTargetFailNamingThem(@TempDir Path dir) {
        var missing = assertThrows(IOException.class, () -> Volumes.select(List.of(bind("/data", dir.resolve("nope"), "rbind"))));
        assertTrue(missing.getMessage().startsWith("bind mount on /data: source " + dir.resolve("nope") + " does not exist"), missing.getMessage());
        var relative = assertThrows(IOException.class, () -> Volumes.select(List.of(new Volumes.SpecMount("/data", "bind", "rel/dir", List.of()))));
        assertEquals("bind mount on /data: source 'rel/dir' is not an absolute path", relative.getMessage());
        var root = assertThrows(IOException.class, () -> Volumes.select(List.of(bind("/", dir, "rbind"))));
        assertTrue(root.getMessage().contains("cannot replace the guest's root"), root.getMessage());
        var dest = assertThrows(IOException.class, () -> Volumes.select(List.of(bind("data", dir, "rbind"))));
        assertEquals("mount destination 'data' is not an absolute path", dest.getMessage());
    }

    @Test
    void aBlockDeviceIsAVolumeOfItsOwnKindACharacterDeviceIsLeftOut() throws Exception {
        Path loop = Path.of("/dev/loop0");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(loop), "no /dev/loop0 here");
        var s = Volumes.select(List.of(bind("/mnt/disk", loop, "rbind", "ro"), bind("/dev-null", Path.of("/dev/null"), "rbind")));
        assertEquals(List.of(new Volumes.Volume(loop, "/mnt/disk", true, true)), s.volumes());
        assertEquals(List.of("/dev-null (neither a directory nor a block device: only directories are shared with the guest)"), s.skipped());
    }
}
