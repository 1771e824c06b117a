package io.urunc.it.isolation;

import io.urunc.builder.BuildRequest;
import io.urunc.builder.ImageBuilder;
import io.urunc.builder.ImageReference;
import io.urunc.builder.OutputFormat;
import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Images built to make the VMM read host files. The guest is the tiny unikernel as a multiboot kernel (how
 * Unikraft boots on QEMU): it prints every module QEMU loaded, so a host file reaching the guest shows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileImageIT {
    private static final String IMAGE = "urunc.test/hostile-initrd:latest";
    private final String secret = "HOST-SECRET-" + UUID.randomUUID().toString().substring(0, 8);
    private Path hostFile;
    private Containerd containerd;

    @BeforeAll
    void buildAndImport() throws Exception {
        Guests.build();
        containerd = Containerd.start();
        hostFile = Files.writeString(containerd.dir().resolve("host-secret"), secret + "\n");
        Path ctx = Files.createDirectories(containerd.dir().resolve("ctx"));
        Files.copy(Containerd.REPO.resolve("guests/out/tiny/tiny-mb.elf"), ctx.resolve("app.elf"));
        Files.writeString(ctx.resolve("i"), "IMAGE-DECOY\n");
        // "/i,<host file>" names this file inside the image; QEMU's multiboot loader reads it as two modules
        Path commaNamed = ctx.resolve("i,").resolve(hostFile.toString().substring(1));
        Files.createDirectories(commaNamed.getParent());
        Files.writeString(commaNamed, "IMAGE-COMMA-FILE\n");
        // "/a b/c": QEMU cuts a module name at the space and would open "<rootfs>/a", a link to the host file
        Files.createSymbolicLink(ctx.resolve("a"), hostFile);
        Files.createDirectories(ctx.resolve("a b"));
        Files.writeString(ctx.resolve("a b/c"), "IMAGE-SPACE-FILE\n");
        Path cf = Files.writeString(ctx.resolve("Containerfile"), """
                FROM scratch
                COPY . /
                LABEL com.urunc.unikernel.unikernelType=unikraft \\
                      com.urunc.unikernel.hypervisor=qemu \\
                      com.urunc.unikernel.binary=/app.elf \\
                      com.urunc.unikernel.initrd="/i,%s"
                """.formatted(hostFile));
        Path tar = containerd.dir().resolve("hostile.tar");
        new ImageBuilder(new PrintStream(new ByteArrayOutputStream()), true).build(new BuildRequest(
                ImageReference.parse(IMAGE), cf, ctx, Map.of(), OutputFormat.OCI_TAR, tar, 0, true));
        containerd.ctr(Duration.ofMinutes(2), "images", "import", tar.toString()).ok();
    }

    @AfterAll
    void stop() {
        if (containerd != null) containerd.close();
    }

    @Test
    void aCommaInTheInitrdPathLoadsOnlyTheImagesFile() {
        assertTheGuestGotOnly("IMAGE-COMMA-FILE", run("hostile-comma"));
    }

    @Test
    void aSpaceInTheInitrdPathNeverFollowsTheImagesSymlinkOnTheHost() {
        assertTheGuestGotOnly("IMAGE-SPACE-FILE", run("hostile-space", "--annotation", "com.urunc.unikernel.initrd=/a b/c"));
    }

    private void assertTheGuestGotOnly(String imageFileContent, Exec.Result r) {
        assertEquals(0, r.exit(), r + diagnostics());
        assertFalse(r.stdout().contains(secret), "the host file reached the guest: " + r.stdout());
        assertTrue(r.stdout().contains("TINY: modules=1"), "exactly one module: " + r.stdout());
        assertTrue(r.stdout().contains("data=" + imageFileContent), "the module is the image's file: " + r.stdout());
    }

    @Test
    void aKernelSymlinkToAHostFileIsResolvedInsideTheImage() {
        // "/a" is a link to the host file's path; inside the image that path does not exist
        Exec.Result r = run("hostile-kernel", "--annotation", "com.urunc.unikernel.binary=/a");
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.stderr().contains("com.urunc.unikernel.binary") && r.stderr().contains(": /a: no such file in the container rootfs"),
                "the error names the key and the problem: " + r);
    }

    /**
     * {@code com.urunc.unikernel.block}: a link to a host file is resolved inside the image (there is no such file);
     * a path with a comma naming the host file's path inside the image is the image's file, handed to QEMU as a
     * descriptor (BlockImageIT checks that QEMU's command line names no image path), and the host file stays as it was.
     */
    @Test
    void aBlockImageIsResolvedInsideTheImageAndReachesQemuAsADescriptor() throws Exception {
        Exec.Result link = run("hostile-block-link", "--annotation", "com.urunc.unikernel.block=/a");
        assertNotEquals(0, link.exit(), link.toString());
        assertTrue(link.stderr().contains("com.urunc.unikernel.block") && link.stderr().contains(": /a: no such file in the container rootfs"),
                "the error names the key and the problem: " + link);
        Exec.Result comma = run("hostile-block-comma", "--annotation", "com.urunc.unikernel.initrd=/i",
                "--annotation", "com.urunc.unikernel.block=/i," + hostFile);
        assertEquals(0, comma.exit(), comma + diagnostics());
        assertEquals(secret + "\n", Files.readString(hostFile), "the host file is untouched");
    }

    @Test
    void theVmmRunsWithoutPrivilegeConfinedToItsRunDir() throws Exception {
        containerd.ctr("run", "-d", "--runtime", "io.containerd.urunc.v2", "--annotation", "com.urunc.unikernel.initrd=/i",
                IMAGE, "unprivileged", "run").ok();
        try {
            long qemu = awaitQemu();
            java.util.List<String> status = Files.readAllLines(Path.of("/proc/" + qemu + "/status"));
            String uid = field(status, "Uid:"), gid = field(status, "Gid:");
            assertTrue(uid.matches("(2\\d{9}\\s+){3}2\\d{9}"), "QEMU dropped root (real, effective, saved, fs uid): " + uid);
            assertTrue(gid.matches("(2\\d{9}\\s+){3}2\\d{9}"), "and its groups: " + gid);
            assertEquals("0000000000000000", field(status, "CapEff:"), "no capabilities");
            assertEquals("0000000000000000", field(status, "CapPrm:"), "none to regain");
            Path root = Files.readSymbolicLink(Path.of("/proc/" + qemu + "/root"));
            assertTrue(root.startsWith(containerd.uruncStateDir().resolve("t")), "its file system is its run dir: " + root);
            try (var files = Files.list(root)) {
                assertEquals(java.util.List.of("qmp.sock"), files.map(f -> f.getFileName().toString()).toList(),
                        "the kernel and initrd copies are gone once QEMU has loaded them");
            }
            // the unprivileged VMM still obeys the shim: pause, resume, SIGKILL
            containerd.ctr("task", "pause", "unprivileged").ok();
            containerd.ctr("task", "resume", "unprivileged").ok();
        } finally {
            containerd.ctr("task", "kill", "-s", "SIGKILL", "unprivileged");
            for (int i = 0; i < 100 && !containerd.ctr("task", "ls").stdout().matches("(?s).*unprivileged\\s+\\d+\\s+STOPPED.*"); i++) {
                Thread.sleep(100);
            }
            containerd.ctr("task", "delete", "unprivileged");
            containerd.ctr("container", "delete", "unprivileged");
        }
        // SIGKILL reached QEMU itself: a VMM that changed its credentials no longer dies with its unshare wrapper
        for (int i = 0; i < 50 && !io.urunc.it.support.Processes.qemus(containerd.uruncStateDir().toString()).isEmpty(); i++) Thread.sleep(100);
        assertEquals(java.util.List.of(), io.urunc.it.support.Processes.qemus(containerd.uruncStateDir().toString()), "no VMM left");
    }

    private long awaitQemu() throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            var q = io.urunc.it.support.Processes.qemus(containerd.uruncStateDir().toString());
            if (!q.isEmpty()) return q.getFirst().pid();
            Thread.sleep(100);
        }
        return fail("no QEMU for the task" + diagnostics());
    }

    private static String field(java.util.List<String> status, String name) {
        return status.stream().filter(l -> l.startsWith(name)).findFirst().orElseThrow().substring(name.length()).strip();
    }

    private Exec.Result run(String id, String... annotations) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("run", "--rm", "--runtime", "io.containerd.urunc.v2"));
        cmd.addAll(java.util.List.of(annotations));
        cmd.addAll(java.util.List.of(IMAGE, id, "exit=0"));
        Exec.Result r = containerd.ctr(Duration.ofMinutes(2), cmd.toArray(String[]::new));
        containerd.ctr("container", "delete", id);
        return r;
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs();
    }
}
