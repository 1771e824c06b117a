package io.urunc.it.storage;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Processes;
import io.urunc.it.support.Stack;
import io.urunc.it.support.TaskStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code com.urunc.unikernel.block}: the image's ext4 file reaches the Linux guest on QEMU as a virtio disk, mounted
 * at {@code blkMntPoint}. QEMU (unprivileged, chrooted) gets it as an open descriptor, never a path; what the guest
 * writes lands in the container's own copy of the file (its snapshot), so a second task of the container sees it
 * and a new container of the image does not.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BlockImageIT {
    @Parameter
    Stack stack;
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private static final String SCRIPT = "cat /srv/app.conf; cat /srv/note.txt 2>/dev/null || echo NO-NOTE-YET; "
            + "echo note-from-an-earlier-task > /srv/note.txt";
    private Containerd containerd;

    @BeforeParameterizedClassInvocation
    void startContainerd() throws Exception {
        containerd = Containerd.start(stack);
        Guests.importInto(containerd, "default", "block");
    }

    @AfterParameterizedClassInvocation
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    @Test
    void theGuestReadsTheImagesFileSystemAndItsWritesStayInTheContainersSnapshot() throws Exception {
        Exec.Result first = containerd.ctr(Duration.ofMinutes(3), "run", "--runtime", RUNTIME, Guests.BLOCK, "blk-keep",
                "/init", "/bin/sh", "-c", SCRIPT);
        assertEquals(0, first.exit(), first + diagnostics());
        assertTrue(first.stdout().contains("mounted blk blk0 on /srv rw"), first.toString());
        assertTrue(first.stdout().contains("URUNC-BLOCK-CONF=from-the-block-image"), "read through the block device: " + first);
        assertTrue(first.stdout().contains("NO-NOTE-YET"), first.toString());

        // the same container again: its snapshot holds what the first task wrote
        containerd.ctr("task", "delete", "blk-keep");
        Exec.Result second = containerd.ctr(Duration.ofMinutes(3), "task", "start", "blk-keep");
        assertEquals(0, second.exit(), second + diagnostics());
        assertTrue(second.stdout().contains("note-from-an-earlier-task"), "the write survived the task: " + second);
        containerd.ctr("task", "delete", "blk-keep");
        containerd.ctr("container", "delete", "blk-keep").ok();

        // a new container of the image starts from the image's file, untouched
        Exec.Result fresh = containerd.ctr(Duration.ofMinutes(3), "run", "--rm", "--runtime", RUNTIME, Guests.BLOCK, "blk-fresh",
                "/init", "/bin/sh", "-c", SCRIPT);
        assertEquals(0, fresh.exit(), fresh + diagnostics());
        assertTrue(fresh.stdout().contains("NO-NOTE-YET"), "the image's copy is unchanged: " + fresh);
        assertNothingLeft();
    }

    @Test
    void qemuGetsTheFileOnADescriptorAndDeleteAfterItWasKilledLeavesNothing() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.BLOCK, "blk-fd", "/init", "/bin/sleep", "600").ok();
        TaskStatus.await(containerd, "blk-fd", "RUNNING", this::diagnostics);
        List<ProcessHandle> qemu = Processes.qemus(containerd.uruncStateDir().toString());
        assertEquals(1, qemu.size(), qemu.toString());
        String cmdline = Processes.cmdline(qemu.getFirst().pid());
        assertTrue(cmdline.contains("-add-fd fd=3,set=3,opaque=blk0 -add-fd fd=4,set=3,opaque=blk0") && cmdline.contains("file=/dev/fdset/3"), cmdline);
        assertFalse(cmdline.contains("data.ext4"), "no path of the image reaches QEMU: " + cmdline);
        assertTrue(openFiles(qemu.getFirst().pid()).stream().anyMatch(f -> f.endsWith("/rootfs/disk/data.ext4")),
                "QEMU holds the container's copy of the file: " + openFiles(qemu.getFirst().pid()));

        qemu.getFirst().destroyForcibly();
        TaskStatus.await(containerd, "blk-fd", "STOPPED", this::diagnostics);
        containerd.ctr("task", "delete", "blk-fd").ok();
        containerd.ctr("container", "delete", "blk-fd").ok();
        assertNothingLeft();
    }

    /** No VMM, run dir, record or mount, and no daemon still holding the image's file open. */
    private void assertNothingLeft() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            List<String> left = new java.util.ArrayList<>();
            Processes.qemus(containerd.uruncStateDir().toString()).forEach(p -> left.add("qemu " + p.pid()));
            for (String dir : List.of("t", "tasks/default")) {
                Path d = containerd.uruncStateDir().resolve(dir);
                if (!Files.isDirectory(d)) continue;
                try (Stream<Path> s = Files.list(d)) {
                    s.forEach(p -> left.add(p.toString()));
                }
            }
            Mounts.under(containerd.dir()).forEach(m -> left.add("mount " + m));
            for (ProcessHandle daemon : Processes.matching("io.urunc.shim.Main")) {
                if (!Processes.cmdline(daemon.pid()).contains(containerd.socket().toString())) continue;
                openFiles(daemon.pid()).stream().filter(t -> t.contains("data.ext4")).forEach(t -> left.add("daemon fd " + t));
            }
            if (left.isEmpty()) return;
            if (System.nanoTime() > deadline) fail("left behind: " + left + diagnostics());
            Thread.sleep(200);
        }
    }

    /** What the process's descriptors point at (empty once it is gone). */
    private static List<String> openFiles(long pid) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.map(f -> {
                try {
                    return Files.readSymbolicLink(f).toString();
                } catch (Exception e) {
                    return "";
                }
            }).toList();
        } catch (java.io.IOException gone) {
            return List.of();
        }
    }
}
