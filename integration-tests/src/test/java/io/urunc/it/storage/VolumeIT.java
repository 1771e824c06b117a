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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Volumes ({@code ctr run --mount type=bind}) reach a Linux guest on QEMU as virtiofs shares, each served by its
 * own sandboxed virtiofsd: what the guest writes is on the host, a read-only volume stays read-only even for a
 * guest that remounts it read-write, and nothing of it (virtiofsd, socket, run dir, mount) outlives the task, also
 * when QEMU or the shim's daemon was killed. With {@code com.urunc.unikernel.mountRootfs} the container rootfs
 * itself is shared, and the guest's init switches into it.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VolumeIT {
    @Parameter
    Stack stack;
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;
    private Path host;

    @BeforeParameterizedClassInvocation
    void startContainerd() throws Exception {
        containerd = Containerd.start(stack);
        Guests.importInto(containerd, "default", "hello", "rootfs");
        host = Files.createTempDirectory(Path.of("/tmp"), "uit-vol");
    }

    @AfterParameterizedClassInvocation
    void stopContainerd() {
        if (containerd != null) containerd.close();
        if (host != null) Containerd.deleteTree(host);
    }

    private static String bind(Path source, String target, String mode) {
        return "type=bind,src=" + source + ",dst=" + target + ",options=rbind:" + mode;
    }

    private CompletableFuture<Exec.Result> run(List<String> options, String id, String script) {
        List<String> cmd = new ArrayList<>(List.of("run", "--runtime", RUNTIME));
        cmd.addAll(options);
        cmd.addAll(List.of(Guests.HELLO, id, "/init", "/bin/sh", "-c", script));
        return CompletableFuture.supplyAsync(() -> containerd.ctr(Duration.ofMinutes(3), cmd.toArray(String[]::new)));
    }

    private List<ProcessHandle> virtiofsds() {
        return Processes.matching(containerd.uruncStateDir().toString()).stream()
                .filter(p -> Processes.cmdline(p.pid()).contains("virtiofsd")).toList();
    }

    /** Sockets, run dirs and records the task left in the shim's state dir. */
    private List<Path> leftovers() throws Exception {
        List<Path> left = new ArrayList<>();
        for (String dir : List.of("t", "tasks/default")) {
            Path d = containerd.uruncStateDir().resolve(dir);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> s = Files.list(d)) {
                left.addAll(s.toList());
            }
        }
        return left;
    }

    private void assertNothingLeft(String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(virtiofsds().isEmpty() && leftovers().isEmpty() && Mounts.under(containerd.dir()).isEmpty()
                && Processes.qemus(containerd.uruncStateDir().toString()).isEmpty())) {
            if (System.nanoTime() > deadline)
                fail(what + ": virtiofsd " + virtiofsds() + ", state " + leftovers() + ", mounts " + Mounts.under(containerd.dir())
                        + diagnostics());
            Thread.sleep(100);
        }
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    @Test
    void theGuestWritesARwVolumeReadsARoOneAndCannotWriteItEvenRemountedRw() throws Exception {
        Path data = Files.createDirectories(host.resolve("data"));
        Path config = Files.createDirectories(host.resolve("config dir"));
        Files.writeString(config.resolve("app.conf"), "greeting=from-the-host\n");
        String script = "cat /etc/app/app.conf; echo guest-wrote-$((6*7)) > /data/out.txt; "
                + "mount -o remount,rw /etc/app; echo x > /etc/app/intruder && echo RO-WRITTEN || echo RO-REFUSED";
        Exec.Result r = run(List.of("--rm", "--mount", bind(data, "/data", "rw"), "--mount", bind(config, "/etc/app", "ro")),
                "vol-rw-ro", script).get(3, TimeUnit.MINUTES);

        assertEquals(0, r.exit(), r + diagnostics());
        assertTrue(r.stdout().contains("mounted virtiofs vol0 on /data rw"), r.toString());
        assertTrue(r.stdout().contains("mounted virtiofs vol1 on /etc/app ro"), r.toString());
        assertTrue(r.stdout().contains("greeting=from-the-host"), "the guest read the host's file: " + r);
        assertEquals("guest-wrote-42\n", Files.readString(data.resolve("out.txt")), r.toString());
        assertTrue(r.stdout().contains("RO-REFUSED"), "the host refuses writes to a ro volume: " + r);
        assertFalse(Files.exists(config.resolve("intruder")), r.toString());
        assertNothingLeft("after ctr run --rm");
    }

    @Test
    void deleteAfterQemuWasKilledLeavesNoVirtiofsdSocketOrMount() throws Exception {
        Path data = Files.createDirectories(host.resolve("crash"));
        containerd.ctr("run", "-d", "--runtime", RUNTIME, "--mount", bind(data, "/data", "rw"), Guests.HELLO, "vol-crash",
                "/init", "/bin/sleep", "600").ok();
        TaskStatus.await(containerd, "vol-crash", "RUNNING", this::diagnostics);
        assertFalse(virtiofsds().isEmpty(), "a virtiofsd serves the volume");
        List<ProcessHandle> qemu = Processes.qemus(containerd.uruncStateDir().toString());
        assertEquals(1, qemu.size(), qemu.toString());

        qemu.getFirst().destroyForcibly();
        TaskStatus.await(containerd, "vol-crash", "STOPPED", this::diagnostics);
        containerd.ctr("task", "delete", "vol-crash").ok();
        containerd.ctr("container", "delete", "vol-crash").ok();
        assertNothingLeft("after QEMU was SIGKILLed and the task deleted");
    }

    @Test
    void aKilledDaemonsVirtiofsdAndVmmAreStoppedByShimDelete() throws Exception {
        Path data = Files.createDirectories(host.resolve("orphan"));
        containerd.ctr("run", "-d", "--runtime", RUNTIME, "--mount", bind(data, "/data", "rw"), Guests.HELLO, "vol-orphan",
                "/init", "/bin/sleep", "600").ok();
        TaskStatus.await(containerd, "vol-orphan", "RUNNING", this::diagnostics);
        assertFalse(virtiofsds().isEmpty(), "virtiofsd runs");
        List<ProcessHandle> daemons = Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
        assertEquals(1, daemons.size(), daemons.toString());

        daemons.getFirst().destroyForcibly();
        // containerd sees the shim gone and runs `containerd-shim-urunc-v2 delete`
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!virtiofsds().isEmpty() || !Processes.qemus(containerd.uruncStateDir().toString()).isEmpty()) {
            if (System.nanoTime() > deadline) fail("after the daemon died: virtiofsd " + virtiofsds() + diagnostics());
            Thread.sleep(200);
        }
        containerd.ctr("task", "delete", "vol-orphan");
        containerd.ctr("container", "delete", "vol-orphan").ok();
        assertNothingLeft("after the daemon was killed and the task deleted");
    }

    @Test
    void mountRootfsBootsIntoTheContainerRootfsWithItsVolumesAndWritesStayInTheSnapshot() throws Exception {
        Path data = Files.createDirectories(host.resolve("rootfs-data"));
        String script = "cat /etc/app.conf; cat /note.txt 2>/dev/null || echo NO-NOTE-YET; echo from-the-guest > /note.txt; "
                + "echo beside-the-rootfs > /data/out.txt";
        List<String> cmd = List.of("run", "--runtime", RUNTIME, "--mount", bind(data, "/data", "rw"), Guests.ROOTFS, "vol-rootfs",
                "/init", "/bin/busybox", "sh", "-c", script);
        Exec.Result first = containerd.ctr(Duration.ofMinutes(3), cmd.toArray(String[]::new));
        assertEquals(0, first.exit(), first + diagnostics());
        assertTrue(first.stdout().contains("mounted virtiofs fs0 on / rw") && first.stdout().contains("root is the container rootfs"), first.toString());
        assertTrue(first.stdout().contains("URUNC-ROOTFS-CONF=from-the-container-rootfs"), "read from the image's rootfs: " + first);
        assertTrue(first.stdout().contains("NO-NOTE-YET"), first.toString());
        assertEquals("beside-the-rootfs\n", Files.readString(data.resolve("out.txt")), "a volume below the shared root: " + first);

        containerd.ctr("task", "delete", "vol-rootfs");
        Exec.Result second = containerd.ctr(Duration.ofMinutes(3), "task", "start", "vol-rootfs");
        assertEquals(0, second.exit(), second + diagnostics());
        assertTrue(second.stdout().contains("from-the-guest"), "the guest's write to its root is in the container's snapshot: " + second);
        containerd.ctr("task", "delete", "vol-rootfs");
        containerd.ctr("container", "delete", "vol-rootfs").ok();
        assertNothingLeft("after the mountRootfs container was deleted");
    }

    /** A bind mount of a block device (here a loop device over an ext4 file) reaches the guest as a disk at the target. */
    @Test
    void aBlockDeviceVolumeIsADiskTheGuestMountsAndWrites() throws Exception {
        Path backing = host.resolve("device.ext4");
        Path tree = Files.createDirectories(host.resolve("device-tree"));
        Files.writeString(tree.resolve("on-the-device.txt"), "URUNC-DEVICE-OK\n");
        Exec.run(Duration.ofSeconds(30), java.util.Map.of(), "mkfs.ext4", "-q", "-F", "-d", tree.toString(), backing.toString(), "16M").ok();
        String loop = Exec.run(Duration.ofSeconds(30), java.util.Map.of(), "losetup", "-f", "--show", backing.toString()).ok().stdout().strip();
        try {
            Exec.Result r = run(List.of("--rm", "--mount", "type=bind,src=" + loop + ",dst=/mnt/dev,options=rbind:rw"), "vol-blockdev",
                    "cat /mnt/dev/on-the-device.txt; echo guest-wrote-the-device > /mnt/dev/from-guest.txt").get(3, TimeUnit.MINUTES);
            assertEquals(0, r.exit(), r + diagnostics());
            assertTrue(r.stdout().contains("mounted blk vdisk0 on /mnt/dev rw") && r.stdout().contains("URUNC-DEVICE-OK"), r.toString());
            assertNothingLeft("after the block device volume's task");
        } finally {
            Exec.run(Duration.ofSeconds(30), java.util.Map.of(), "losetup", "-d", loop);
        }
        Exec.Result written = Exec.run(Duration.ofSeconds(30), java.util.Map.of(), "debugfs", "-R", "cat /from-guest.txt", backing.toString());
        assertTrue(written.stdout().contains("guest-wrote-the-device"), "the guest's write is on the device: " + written);
    }
}
