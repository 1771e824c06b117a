package io.urunc.shim;

import io.urunc.shim.config.ConfigLoader;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.netns.OwnNetworkNamespace;
import io.urunc.shim.task.ForeignLockHolder;
import io.urunc.shim.task.TaskRecord;
import io.urunc.shim.task.TaskStore;
import io.urunc.shim.vm.ProcessIdentity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `delete` after the daemon died: what the task record names is released. */
class DeleteCommandTest {
    private static boolean mounted(Path p) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(l -> l.split(" ")[4].equals(p.toString()));
    }

    @Test
    void removesTheRunDirAndANetworkNamespaceTheShimCreated(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        ShimConfig config = ConfigLoader.parse("[shim]\nstate_dir = \"" + state + "\"\n", "test");
        Path runDir = Files.createDirectories(state.resolve("t/abc"));
        Files.writeString(runDir.resolve("qmp.sock"), "");
        Path netns = OwnNetworkNamespace.create(state.resolve("netns/abc"));
        try {
            assertTrue(mounted(netns));
            new TaskStore(state).save(TaskRecord.of("c1", "default", dir.toString(), "", runDir.toString(), "")
                    .withOwnNetns(netns.toString()));

            var response = DeleteCommand.run(ShimArgs.parse(new String[] {"-namespace", "default", "-id", "c1", "delete"}),
                    config);

            assertEquals(137, response.getExitStatus());
            assertFalse(mounted(netns), "the namespace is unpinned");
            assertFalse(Files.exists(netns));
            assertFalse(Files.exists(runDir));
            assertTrue(new TaskStore(state).load("default", "c1").isEmpty(), "the record is gone");
        } finally {
            OwnNetworkNamespace.remove(netns);
        }
    }

    /**
     * Create records the rootfs mount before making it: a daemon that died in between left a record naming a rootfs
     * that is not mounted, and delete still cleans up all else (and does not fail on the missing mount).
     */
    @Test
    void aRecordedRootfsMountThatWasNeverMadeIsNoError(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path runDir = Files.createDirectories(state.resolve("t/abd"));
        Path rootfs = Files.createDirectories(dir.resolve("rootfs"));
        new TaskStore(state).save(TaskRecord.of("c1", "default", dir.toString(), rootfs.toString(), runDir.toString(), ""));
        assertFalse(mounted(rootfs));

        var response = DeleteCommand.run(ShimArgs.parse(new String[] {"-namespace", "default", "-id", "c1",
                "-bundle", dir.toString(), "delete"}), configIn(state));

        assertEquals(137, response.getExitStatus());
        assertFalse(Files.exists(runDir));
        assertTrue(new TaskStore(state).load("default", "c1").isEmpty(), "the record is gone");
        assertTrue(Files.isDirectory(rootfs), "the bundle's rootfs directory is containerd's: left in place");
    }

    /** A process another tenant runs, named like a VMM (the old check only looked at the command line). */
    private static Process decoy() throws Exception {
        return new ProcessBuilder("/bin/bash", "-c", "exec -a qemu-system-x86_64 sleep 60").start();
    }

    private static ShimConfig configIn(Path state) throws Exception {
        return ConfigLoader.parse("[shim]\nstate_dir = \"" + state + "\"\n", "test");
    }

    private static void deleteC1(Path state) throws Exception {
        DeleteCommand.run(ShimArgs.parse(new String[] {"-namespace", "default", "-id", "c1", "delete"}), configIn(state));
    }

    @Test
    void aRecordedPidNowHeldByAnotherProcessIsNotKilled(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Process other = decoy();
        try {
            Thread.sleep(100); // let bash exec, so the command line reads "qemu-system-x86_64 60"
            ProcessIdentity now = ProcessIdentity.of(other.pid()).orElseThrow();
            // the VMM the record names had this pid once, and started earlier: the pid was reused since
            ProcessIdentity recorded = new ProcessIdentity(now.pid(), now.startTime() - 1, now.bootId());
            new TaskStore(state).save(TaskRecord.of("c1", "default", dir.toString(), "",
                    state.resolve("t/c1").toString(), "").withVmm(recorded));

            deleteC1(state);

            assertFalse(other.waitFor(1, java.util.concurrent.TimeUnit.SECONDS), "the other tenant's process still runs");
            assertTrue(new TaskStore(state).load("default", "c1").isEmpty(), "the record is gone");
        } finally {
            other.destroyForcibly().waitFor();
        }
    }

    @Test
    void theRecordedVmmItselfIsKilled(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Process vmm = decoy();
        try {
            new TaskStore(state).save(TaskRecord.of("c1", "default", dir.toString(), "",
                    state.resolve("t/c1").toString(), "").withVmm(ProcessIdentity.of(vmm.pid()).orElseThrow()));

            deleteC1(state);

            assertTrue(vmm.waitFor(5, java.util.concurrent.TimeUnit.SECONDS), "the VMM was killed");
        } finally {
            vmm.destroyForcibly().waitFor();
        }
    }

    @Test
    void deleteWaitsForACreateOfTheSameTaskStillRunningInTheDaemon(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path runDir = Files.createDirectories(state.resolve("t/c1"));
        new TaskStore(state).save(TaskRecord.of("c1", "default", dir.toString(), "", runDir.toString(), ""));
        Thread delete;
        try (ForeignLockHolder create = new ForeignLockHolder(state, "default", "c1")) {
            delete = Thread.ofPlatform().start(() -> {
                try {
                    deleteC1(state);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(700);
            assertTrue(Files.exists(runDir), "nothing is removed under the running Create");
            assertTrue(delete.isAlive());
        }
        delete.join(5000);
        assertFalse(delete.isAlive(), "once the Create is over, delete goes on");
        assertFalse(Files.exists(runDir));
    }

    @Test
    void aRecordWithAFieldThisVersionDoesNotKnowIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path runDir = Files.createDirectories(state.resolve("t/c1"));
        Path record = Files.createDirectories(state.resolve("tasks/default")).resolve("c1.json");
        Files.writeString(record, """
                {"id":"c1","namespace":"default","bundle":"/b","vmmPid":0,"vmmStartTime":0,"bootId":"","rootfsMount":"",
                 "runDir":"%s","cgroupsPath":"","netns":"","tap":"","ownNetns":"","backends":[],"blockDevice":"/dev/sda"}""".formatted(runDir));

        var e = assertThrows(java.io.IOException.class, () -> deleteC1(state));

        assertEquals("task record " + record + ": unknown field \"blockDevice\" (written by another version of the shim?)",
                e.getMessage());
        assertTrue(Files.exists(runDir), "nothing is released on a record that is not understood");
        assertTrue(Files.exists(record), "the record stays for a human to look at");
    }

    @Test
    void aRecordWrittenBeforeVolumesExistedIsStillCleanedUp(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path runDir = Files.createDirectories(state.resolve("t/c1"));
        Path record = Files.createDirectories(state.resolve("tasks/default")).resolve("c1.json");
        Files.writeString(record, """
                {"id":"c1","namespace":"default","bundle":"/b","vmmPid":0,"vmmStartTime":0,"bootId":"","rootfsMount":"",
                 "runDir":"%s","cgroupsPath":"","netns":"","tap":"","ownNetns":""}""".formatted(runDir));

        deleteC1(state);

        assertFalse(Files.exists(runDir), "a task of the previous version's daemon is released by the new binary");
        assertFalse(Files.exists(record));
    }

    @Test
    void aRecordMissingAFieldIsReportedNotANullPointer(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path record = Files.createDirectories(state.resolve("tasks/default")).resolve("c1.json");
        Files.writeString(record, """
                {"id":"c1","namespace":"default","bundle":"/b","vmmPid":0,"vmmStartTime":0,"bootId":"","rootfsMount":"",
                 "cgroupsPath":"","netns":"","tap":"","ownNetns":"","backends":[]}""");

        var e = assertThrows(java.io.IOException.class, () -> deleteC1(state));

        assertTrue(e.getMessage().startsWith("task record " + record + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("runDir"), e.getMessage());
    }

    @Test
    void aRunDirOutsideTheStateDirIsNeverRemoved(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path precious = Files.createDirectories(dir.resolve("precious"));
        Files.writeString(precious.resolve("data"), "keep me");
        for (String runDir : List.of(precious.toString(), state.resolve("t/../../precious").toString(), state.toString())) {
            new TaskStore(state).save(TaskRecord.of("c1", "default", dir.toString(), "", runDir, ""));

            var e = assertThrows(java.io.IOException.class, () -> deleteC1(state));

            assertTrue(e.getMessage().contains("runDir " + runDir + " is not below " + state.resolve("t")), e.getMessage());
            assertTrue(Files.exists(precious.resolve("data")), runDir);
        }
    }

    /** A socket file in the daemons' directory, bound and then closed (dead), or still listening. */
    private static java.nio.channels.ServerSocketChannel bound(Path socket) throws Exception {
        var server = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        server.bind(java.net.UnixDomainSocketAddress.of(socket));
        return server;
    }

    @Test
    void aDeadDaemonsSocketGoesAndALiveOneStays(@TempDir Path dir) throws Exception {
        Path sockets = Path.of(DaemonAddress.SOCKET_DIR);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(sockets.getParent().getParent()), "needs root");
        Files.createDirectories(sockets);
        Path state = Files.createDirectories(dir.resolve("state/d")).getParent();
        String dead = DaemonAddress.sha256("test dead " + dir);
        String live = DaemonAddress.sha256("test live " + dir);
        Path deadBundle = Files.createDirectories(dir.resolve("dead"));
        Path liveBundle = Files.createDirectories(dir.resolve("live"));
        Files.writeString(deadBundle.resolve("address"), "unix://" + sockets.resolve(dead));
        Files.writeString(liveBundle.resolve("address"), "unix://" + sockets.resolve(live));
        bound(sockets.resolve(dead)).close();
        Files.writeString(state.resolve("d/" + dead + ".pid"), "1");
        try (var server = bound(sockets.resolve(live))) {
            assertTrue(Files.exists(sockets.resolve(dead)), "closing a channel leaves its socket file");

            DeleteCommand.removeDeadDaemonSocket(deadBundle, state);
            DeleteCommand.removeDeadDaemonSocket(liveBundle, state);

            assertFalse(Files.exists(sockets.resolve(dead)), "nobody listens: removed");
            assertFalse(Files.exists(state.resolve("d/" + dead + ".pid")), "with its pid file");
            assertTrue(Files.exists(sockets.resolve(live)), "a daemon listens: kept");
        } finally {
            Files.deleteIfExists(sockets.resolve(dead));
            Files.deleteIfExists(sockets.resolve(live));
        }
    }

    @Test
    void anAddressOutsideTheDaemonsDirectoryIsNeverTouched(@TempDir Path dir) throws Exception {
        Path state = Files.createDirectories(dir.resolve("state/d")).getParent();
        Path elsewhere = dir.resolve(DaemonAddress.sha256("elsewhere"));
        bound(elsewhere).close();
        Files.writeString(dir.resolve("address"), "unix://" + elsewhere);

        DeleteCommand.removeDeadDaemonSocket(dir, state);

        assertTrue(Files.exists(elsewhere), "only sockets named by us in " + DaemonAddress.SOCKET_DIR + " are removed");
    }
}
