package io.urunc.it.storage;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Processes;
import io.urunc.it.support.Stack;
import io.urunc.it.support.TaskStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * containerd's blockfile snapshotter (2.x) gives each container an ext4 image file as its rootfs ({@code ext4},
 * option {@code loop}). With {@code com.urunc.unikernel.mountRootfs} the guest gets that very file as its root disk:
 * the shim mounts it only to copy the kernel and initrd out, unmounts it, and the guest's init mounts the disk and
 * switches into it. The host never has it mounted while the guest runs; the guest's writes are in the snapshot
 * (the container's next task reads them); no loop device, mount or descriptor outlives the task, also after QEMU
 * was SIGKILLed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BlockfileRootfsIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private static final String SNAPSHOTTER = "blockfile";
    private Containerd containerd;
    private Path scratch;

    @BeforeAll
    void startContainerd() throws Exception {
        Guests.build();
        scratch = Files.createTempFile(Path.of("/tmp"), "uit-blockfile", ".ext4");
        Exec.run(Duration.ofSeconds(30), Map.of(), "mkfs.ext4", "-q", "-F", scratch.toString(), "96M").ok();
        containerd = Containerd.start(Stack.CONTAINERD_2_1, """
                disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"]
                [plugins."io.containerd.snapshotter.v1.blockfile"]
                  scratch_file = "%s"
                  fs_type = "ext4"
                  mount_options = []
                  recreate_scratch = false
                [[plugins."io.containerd.transfer.v1.local".unpack_config]]
                  platform = "linux/amd64"
                  snapshotter = "blockfile"
                """.formatted(scratch), "");
        for (String image : List.of("rootfs", "hello"))
            containerd.ctr(Duration.ofMinutes(2), "images", "import", "--snapshotter", SNAPSHOTTER,
                    Guests.images().resolve(image + ".tar").toString()).ok();
    }

    @AfterAll
    void stopContainerd() throws IOException {
        if (containerd != null) containerd.close();
        if (scratch != null) Files.deleteIfExists(scratch);
    }

    /** The snapshots' image files (containerd keeps its metadata.db beside them open). */
    private Path snapshots() {
        return containerd.dir().resolve("root/io.containerd.snapshotter.v1.blockfile/snapshots");
    }

    /** Loop devices whose backing file is one of this containerd's snapshots. */
    private List<String> loopDevices() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/block"))) {
            for (Path dev : s.filter(p -> p.getFileName().toString().startsWith("loop")).toList()) {
                Path backing = dev.resolve("loop/backing_file");
                if (Files.exists(backing) && Files.readString(backing).strip().startsWith(snapshots().toString()))
                    found.add(dev.getFileName() + " -> " + Files.readString(backing).strip());
            }
        } catch (IOException ignored) {
            // a loop device went while being read
        }
        return found;
    }

    /** Descriptors any process has open on a snapshot file. */
    private List<String> openSnapshotFiles() {
        List<String> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> {
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + p.pid() + "/fd"))) {
                for (Path fd : fds.toList()) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith(snapshots().toString())) found.add(p.pid() + ":" + fd.getFileName() + " -> " + target);
                    } catch (IOException ignored) {
                        // closed meanwhile
                    }
                }
            } catch (IOException | SecurityException ignored) {
                // the process ended
            }
        });
        return found;
    }

    private List<String> leftovers() throws IOException {
        List<String> left = new ArrayList<>();
        left.addAll(Mounts.under(containerd.dir()));
        left.addAll(loopDevices());
        left.addAll(openSnapshotFiles());
        Processes.qemus(containerd.uruncStateDir().toString()).forEach(p -> left.add("qemu " + p.pid()));
        Path runDirs = containerd.uruncStateDir().resolve("t");
        if (Files.isDirectory(runDirs)) try (Stream<Path> s = Files.list(runDirs)) {
            s.forEach(p -> left.add(p.toString()));
        }
        return left;
    }

    private void assertNothingLeft(String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<String> left;
        while (!(left = leftovers()).isEmpty()) {
            if (System.nanoTime() > deadline) fail(what + ": " + left + diagnostics());
            Thread.sleep(100);
        }
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    @Test
    void theSnapshotsImageIsTheGuestsRootDiskAndItsWritesStayInTheSnapshot() throws Exception {
        String script = "cat /etc/app.conf; cat /note.txt 2>/dev/null || echo NO-NOTE-YET; echo from-the-guest > /note.txt";
        Exec.Result first = containerd.ctr(Duration.ofMinutes(3), "run", "--snapshotter", SNAPSHOTTER, "--runtime", RUNTIME,
                Guests.ROOTFS, "blk-root", "/init", "/bin/busybox", "sh", "-c", script);
        assertEquals(0, first.exit(), first + diagnostics());
        assertTrue(first.stdout().contains("mounted blk rootfs on / rw") && first.stdout().contains("root is the container rootfs"),
                "the guest's root is the snapshot's disk: " + first);
        assertTrue(first.stdout().contains("URUNC-ROOTFS-CONF=from-the-container-rootfs"), "read from the image's rootfs: " + first);
        assertTrue(first.stdout().contains("NO-NOTE-YET"), first.toString());
        containerd.ctr("task", "delete", "blk-root"); // ctr run deleted it already
        assertNothingLeft("after the first task was deleted");

        Exec.Result second = containerd.ctr(Duration.ofMinutes(3), "task", "start", "blk-root");
        assertEquals(0, second.exit(), second + diagnostics());
        assertTrue(second.stdout().contains("from-the-guest"), "the first task's write is in the container's snapshot: " + second);
        containerd.ctr("task", "delete", "blk-root");
        containerd.ctr("container", "delete", "blk-root").ok();
        assertNothingLeft("after the container was deleted");
    }

    @Test
    void theHostHasNothingMountedWhileTheGuestRunsAndNothingIsLeftAfterQemuWasKilled() throws Exception {
        containerd.ctr(Duration.ofMinutes(1), "run", "-d", "--snapshotter", SNAPSHOTTER, "--runtime", RUNTIME, Guests.ROOTFS, "blk-crash",
                "/init", "/bin/busybox", "sh", "-c", "echo crash > /crash.txt; sync; sleep 600").ok();
        TaskStatus.await(containerd, "blk-crash", "RUNNING", this::diagnostics);
        assertEquals(List.of(), Mounts.under(containerd.dir()), "the rootfs is not mounted on the host while the guest has it");
        assertEquals(List.of(), loopDevices(), "nor is a loop device bound to it");
        List<ProcessHandle> qemu = Processes.qemus(containerd.uruncStateDir().toString());
        assertEquals(1, qemu.size(), qemu.toString());

        qemu.getFirst().destroyForcibly();
        TaskStatus.await(containerd, "blk-crash", "STOPPED", this::diagnostics);
        containerd.ctr("task", "delete", "blk-crash").ok();
        containerd.ctr("container", "delete", "blk-crash").ok();
        assertNothingLeft("after QEMU was SIGKILLed and the task deleted");
    }

    /** Without mountRootfs the shim only reads the kernel and initrd from the snapshot: mounted from a loop device, and gone after. */
    @Test
    void aGuestWithoutMountRootfsRunsFromABlockfileSnapshotToo() throws Exception {
        Exec.Result r = containerd.ctr(Duration.ofMinutes(3), "run", "--rm", "--snapshotter", SNAPSHOTTER, "--runtime", RUNTIME,
                Guests.HELLO, "blk-hello", "/init", "/bin/sh", "-c", "echo URUNC-FROM-A-BLOCKFILE-SNAPSHOT");
        assertEquals(0, r.exit(), r + diagnostics());
        assertTrue(r.stdout().contains("URUNC-FROM-A-BLOCKFILE-SNAPSHOT"), r.toString());
        assertNothingLeft("after ctr run --rm");
    }

    /** containerd runs {@code shim delete} when the daemon dies: it stops QEMU; the daemon's descriptor died with it. */
    @Test
    void aKilledDaemonsGuestIsStoppedByShimDeleteAndNothingIsLeft() throws Exception {
        containerd.ctr(Duration.ofMinutes(1), "run", "-d", "--snapshotter", SNAPSHOTTER, "--runtime", RUNTIME, Guests.ROOTFS, "blk-orphan",
                "/init", "/bin/busybox", "sleep", "600").ok();
        TaskStatus.await(containerd, "blk-orphan", "RUNNING", this::diagnostics);
        List<ProcessHandle> daemons = Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
        assertEquals(1, daemons.size(), daemons.toString());
        assertFalse(openSnapshotFiles().isEmpty(), "the daemon and QEMU hold the snapshot file");

        daemons.getFirst().destroyForcibly();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Processes.qemus(containerd.uruncStateDir().toString()).isEmpty()) {
            if (System.nanoTime() > deadline) fail("QEMU outlived its daemon" + diagnostics());
            Thread.sleep(200);
        }
        containerd.ctr("task", "delete", "blk-orphan");
        containerd.ctr("container", "delete", "blk-orphan").ok();
        assertNothingLeft("after the daemon was killed and the task deleted");
    }
}
