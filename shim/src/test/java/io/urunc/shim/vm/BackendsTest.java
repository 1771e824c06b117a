package io.urunc.shim.vm;

import io.urunc.storage.Volumes;
import io.urunc.vmm.BackendProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Backends as the task starts them: the real virtiofsd, and one that fails before it listens. */
class BackendsTest {
    private static final Path VIRTIOFSD = Path.of("/usr/lib/qemu/virtiofsd");

    @Test
    void theRealVirtiofsdIsReadyOnceItListensAndStopsForGood(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(VIRTIOFSD), "QEMU's virtiofsd is not installed");
        Path source = Files.createDirectories(dir.resolve("source"));
        Path mountPoint = Files.createDirectories(dir.resolve("vfs0"));
        Path socket = dir.resolve("vfs0.sock");
        Files.writeString(socket, "a stale socket file of an earlier launch");
        BackendProcess spec = Virtiofsd.backend(VIRTIOFSD, "vfs0", new Volumes.Volume(source, "/data", true), mountPoint, socket);
        List<Backends.Running> running = Backends.start(List.of(spec), Optional.empty());
        Backends.Running r = running.getFirst();
        assertTrue(Backends.listening(socket), "listening when start returns");
        assertTrue(r.process().isAlive());
        assertTrue(Processes.commOf(r.identity().pid()).equals("virtiofsd"), "the wrappers exec'd into virtiofsd itself");
        assertTrue(Files.readString(Path.of("/proc/self/mountinfo")).lines().noneMatch(l -> l.contains(mountPoint.toString())),
                "its bind mount is in its own mount namespace only");
        r.stop();
        assertFalse(r.identity().alive());
    }

    @Test
    void aBackendThatDiesBeforeListeningFailsWithItsOwnWords(@TempDir Path dir) {
        BackendProcess dying = new BackendProcess("vfs0", List.of("/bin/sh", "-c", "echo 'fuse: bad mount point' >&2; exit 3"),
                dir.resolve("vfs0.sock"));
        IOException e = assertThrows(IOException.class, () -> Backends.start(List.of(dying), Optional.empty()));
        assertEquals("vfs0 exited with status 3 before listening: fuse: bad mount point", e.getMessage());
    }

    /** /proc/<pid>/comm. */
    private static final class Processes {
        static String commOf(long pid) throws IOException {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        }
    }
}
