package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Processes;
import io.urunc.it.support.Stack;
import io.urunc.it.runc.BusyboxRootfs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * Unikernels through a real containerd (each {@link Stack}), the real shim binary, and real QEMU (TCG): what `ctr`
 * users see.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShimLifecycleIT {
    @Parameter
    Stack stack;
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;

    @BeforeParameterizedClassInvocation
    void startContainerd() throws Exception {
        containerd = Containerd.start(stack);
        Guests.importInto(containerd, "default", "tiny", "hello");
    }

    @AfterParameterizedClassInvocation
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    private Exec.Result run(String... args) {
        List<String> cmd = new ArrayList<>(List.of("run", "--runtime", RUNTIME));
        cmd.addAll(List.of(args));
        return containerd.ctr(Duration.ofMinutes(2), cmd.toArray(String[]::new));
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    /** containerd 2.x asks `-info` at every Create and may call RPCs 1.6 never did: all must be answered. */
    @Test
    void containerdOfTheStackGetsEveryAnswerItAsks() {
        String version = containerd.ctr("version").ok().stdout();
        assertTrue(version.contains(stack.containerd2() ? "Version:  2.1" : "Version:  1.6"), stack + ": " + version);
        Exec.Result ok = run("--rm", Guests.TINY, "tiny-asks", "exit=0");
        assertEquals(0, ok.exit(), ok + diagnostics());
        assertFalse(containerd.log().contains("failed to load runtime info"), "-info answered: " + containerd.log());
        assertFalse(containerd.shimLogs().contains("with UNIMPLEMENTED"), "no RPC went unanswered: " + containerd.shimLogs());
    }

    @Test
    void guestOutputAndExitCodeReachCtr() {
        Exec.Result ok = run("--rm", Guests.TINY, "tiny-ok", "exit=0");
        assertEquals(0, ok.exit(), ok + diagnostics());
        assertTrue(ok.stdout().contains("TINY: booted"), ok.toString());
        assertTrue(ok.stdout().contains("exit=0"), ok.toString());

        Exec.Result three = run("--rm", Guests.TINY, "tiny-three", "exit=3");
        assertEquals(3, three.exit(), three + diagnostics());
        assertTrue(three.stdout().contains("TINY: cmdline="), three.toString());
    }

    @Test
    void linuxGuestBootsPrintsAndReportsItsExitCode() throws Exception {
        // Two Linux boots at once: both under TCG, in one shim daemon.
        CompletableFuture<Exec.Result> hello = CompletableFuture.supplyAsync(() -> run("--rm", Guests.HELLO, "linux-hello"));
        CompletableFuture<Exec.Result> fail = CompletableFuture.supplyAsync(
                () -> run("--rm", Guests.HELLO, "linux-fail", "/init", "/bin/sh", "-c", "exit 5"));
        Exec.Result h = hello.get(3, TimeUnit.MINUTES);
        assertEquals(0, h.exit(), h + diagnostics());
        assertTrue(h.stdout().contains("URUNC-HELLO-OK"), h.toString());
        Exec.Result f = fail.get(3, TimeUnit.MINUTES);
        assertEquals(5, f.exit(), f + diagnostics());
    }

    @Test
    void longRunningGuestCanBePausedResumedAndKilled() throws Exception {
        Process term = startRun("tiny-term");
        Process kill = startRun("tiny-kill");
        awaitStatus("tiny-term", "RUNNING");
        awaitStatus("tiny-kill", "RUNNING");
        assertEquals(1, daemons().size(), "one shim daemon serves both tasks: " + daemons());

        containerd.ctr("task", "pause", "tiny-term").ok();
        assertEquals("PAUSED", status("tiny-term"));
        containerd.ctr("task", "resume", "tiny-term").ok();
        assertEquals("RUNNING", status("tiny-term"));

        containerd.ctr("task", "kill", "-s", "SIGKILL", "tiny-kill").ok();
        assertTrue(kill.waitFor(30, TimeUnit.SECONDS), "ctr run returns after SIGKILL");
        assertEquals(137, kill.exitValue(), "128+SIGKILL" + diagnostics());

        // The tiny guest ignores the ACPI power button: after the grace period the VMM is killed.
        containerd.ctr("task", "kill", "-s", "SIGTERM", "tiny-term").ok();
        assertTrue(term.waitFor(30, TimeUnit.SECONDS), "ctr run returns after SIGTERM + grace");
        assertEquals(137, term.exitValue(), "escalated to SIGKILL" + diagnostics());
        assertNothingLeftFor("tiny-term");
        assertNothingLeftFor("tiny-kill");
    }

    /** The launcher spawns a new namespace's daemon itself: starts racing for it still end with one daemon. */
    @Test
    void concurrentColdStartsOfANamespaceShareOneDaemon() throws Exception {
        String ns = "burst";
        Guests.importInto(containerd, ns, "tiny");
        List<CompletableFuture<Exec.Result>> runs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = "burst-" + i;
            runs.add(CompletableFuture.supplyAsync(() -> containerd.ctr(Duration.ofMinutes(2), "-n", ns, "run", "-d",
                    "--runtime", RUNTIME, Guests.TINY, id, "run")));
        }
        for (CompletableFuture<Exec.Result> r : runs) {
            Exec.Result result = r.get(3, TimeUnit.MINUTES);
            assertEquals(0, result.exit(), result + diagnostics());
        }
        String tasks = containerd.ctr("-n", ns, "task", "ls").ok().stdout();
        assertEquals(3, tasks.lines().filter(l -> l.startsWith("burst-") && l.trim().endsWith("RUNNING")).count(), tasks);
        List<ProcessHandle> burstDaemons = daemons().stream()
                .filter(p -> Processes.cmdline(p.pid()).contains("-namespace " + ns + " ")).toList();
        assertEquals(1, burstDaemons.size(), "one daemon serves the namespace: " + burstDaemons);
        for (int i = 0; i < 3; i++) containerd.ctr("-n", ns, "task", "kill", "-s", "SIGKILL", "burst-" + i).ok();
        for (int i = 0; i < 3; i++) {
            String id = "burst-" + i;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (containerd.ctr("-n", ns, "task", "delete", id).exit() != 0 && System.nanoTime() < deadline) Thread.sleep(200);
            containerd.ctr("-n", ns, "container", "delete", id).ok();
        }
        assertTrue(containerd.ctr("-n", ns, "task", "ls", "-q").ok().stdout().isBlank(), "no task is left");
    }

    @Test
    void deleteLeavesNothingBehind() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "tiny-del", "run").ok();
        awaitStatus("tiny-del", "RUNNING");
        Path bundle = containerd.dir().resolve("state/io.containerd.runtime.v2.task/default/tiny-del");
        assertFalse(Mounts.under(bundle).isEmpty(), "rootfs mounted while running");
        assertFalse(qemusOf().isEmpty(), "a QEMU runs for the task");
        Exec.Result refused = containerd.ctr("task", "delete", "tiny-del");
        assertNotEquals(0, refused.exit(), "a running task is not deleted");
        containerd.ctr("task", "kill", "-s", "SIGKILL", "tiny-del").ok();
        awaitStatus("tiny-del", "STOPPED");
        containerd.ctr("task", "delete", "tiny-del").ok();
        containerd.ctr("container", "delete", "tiny-del").ok();
        assertNothingLeftFor("tiny-del");
    }

    @Test
    void theVmmRunsInTheContainersNamespaces() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "tiny-ns", "run").ok();
        try {
            List<ProcessHandle> q = qemusOf();
            assertEquals(1, q.size(), q.toString());
            long pid = q.getFirst().pid();
            for (String ns : List.of("pid", "ipc", "uts", "net")) {
                assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)),
                        Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + (ns.equals("pid") ? "pid_for_children" : ns))),
                        "QEMU is not in the host's " + ns + " namespace");
            }
            String nspid = Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .filter(l -> l.startsWith("NSpid:")).findFirst().orElseThrow();
            assertTrue(nspid.trim().endsWith("\t1") || nspid.trim().endsWith(" 1"), "QEMU is pid 1 of its own pid namespace: " + nspid);
        } finally {
            killAndRemove("tiny-ns");
        }
        assertNothingLeftFor("tiny-ns");
    }

    /**
     * The VMM is in the container's cgroup (ctr asks for /default/ID) in every hierarchy, the process that starts
     * the kernel's wait for that move at Create (CgroupMoveWarmUp) is gone, and delete removes the cgroup.
     */
    @Test
    void theVmmRunsInTheContainersCgroup() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "tiny-cg", "run").ok();
        List<Path> dirs = new ArrayList<>();
        try {
            List<ProcessHandle> q = qemusOf();
            assertEquals(1, q.size(), q.toString());
            List<String> cgroups = Files.readAllLines(Path.of("/proc/" + q.getFirst().pid() + "/cgroup"));
            boolean v2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
            for (String controller : v2 ? List.of("") : List.of("memory", "pids")) {
                String line = cgroups.stream().filter(l -> l.split(":", 3)[1].equals(controller)).findFirst().orElseThrow();
                assertTrue(line.endsWith(":/default/tiny-cg"), "QEMU's " + (v2 ? "cgroup" : controller + " cgroup") + ": " + line);
                dirs.add(Path.of("/sys/fs/cgroup", controller, "default/tiny-cg"));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!warmUps().isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
            assertEquals(List.of(), warmUps(), "the warm-up process ended");
        } finally {
            killAndRemove("tiny-cg");
        }
        assertNothingLeftFor("tiny-cg");
        for (Path d : dirs) assertFalse(Files.exists(d), d + " removed at delete");
    }

    @Test
    void badAnnotationsFailCreateNamingTheProblem() throws Exception {
        assertCreateFails("bad-hv", "com.urunc.unikernel.hypervisor=vmware", "vmware");
        assertCreateFails("bad-type", "com.urunc.unikernel.unikernelType=plan9", "plan9");
        assertCreateFails("bad-bin", "com.urunc.unikernel.binary=/no/such/kernel", "/no/such/kernel");
        assertCreateFails("bad-escape", "com.urunc.unikernel.binary=../../../../../../etc/passwd", "climbs above");
        // A file that is no kernel: QEMU itself refuses it, and its own words reach the user at Create.
        assertCreateFails("bad-kernel", "com.urunc.unikernel.binary=/urunc.json", "qemu exited with status 1");
    }

    @Test
    void anOrdinaryContainerIsRecognisedAsNotAUnikernelAndRunByRunc() throws Exception {
        Path rootfs = BusyboxRootfs.create(Files.createTempDirectory(containerd.dir(), "plain"), "rootfs");
        Exec.Result r = containerd.ctr("run", "--rm", "--runtime", RUNTIME, "--rootfs", rootfs.toString(),
                "plain", "/bin/sh", "-c", "echo plain-container; exit 7");
        assertEquals(7, r.exit(), r + diagnostics());
        assertTrue(r.stdout().contains("plain-container"), r.toString());
        assertNothingLeftFor("plain");
    }

    /**
     * Create with no rootfs mounts and the rootfs already in place: what `ctr run --rootfs` sends, and what
     * containerd 2.2+'s mount manager sends for mount types the shim does not declare in `-info`.
     */
    @Test
    void unikernelInARootfsContainerdAlreadyMounted() throws Exception {
        Path rootfs = Files.createDirectories(Files.createTempDirectory(containerd.dir(), "premounted").resolve("rootfs"));
        Files.copy(Containerd.REPO.resolve("guests/out/tiny/tiny.elf"), rootfs.resolve("tiny.elf"));
        Exec.Result r = containerd.ctr("run", "--rm", "--runtime", RUNTIME,
                "--annotation", "com.urunc.unikernel.unikernelType=linux", "--annotation", "com.urunc.unikernel.hypervisor=qemu",
                "--annotation", "com.urunc.unikernel.binary=/tiny.elf", "--rootfs", rootfs.toString(), "premounted", "exit=3");
        assertEquals(3, r.exit(), r + diagnostics());
        assertTrue(r.stdout().contains("TINY: booted"), r.toString());
        assertTrue(Files.exists(rootfs.resolve("tiny.elf")), "the rootfs containerd owns is left as it was");
        assertNothingLeftFor("premounted");
    }

    private void assertCreateFails(String id, String annotation, String expectedInError) throws Exception {
        Exec.Result r = run("--rm", "--annotation", annotation, Guests.TINY, id, "exit=0");
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.stderr().contains(expectedInError), "error names the problem: " + r);
        containerd.ctr("container", "delete", id);
        assertNothingLeftFor(id);
    }

    private Process startRun(String id) throws IOException {
        return containerd.ctrInBackground(containerd.dir().resolve(id + ".out"), "run", "--rm", "--runtime", RUNTIME,
                Guests.TINY, id, "run");
    }

    private String status(String id) {
        Exec.Result r = containerd.ctr("task", "ls");
        return r.stdout().lines().map(l -> l.trim().split("\\s+")).filter(f -> f[0].equals(id))
                .map(f -> f[f.length - 1]).findFirst().orElse("ABSENT");
    }

    /** Kills a detached task, waits until it stopped, and deletes it and its container (outcomes not judged). */
    private void killAndRemove(String id) throws InterruptedException {
        containerd.ctr("task", "kill", "-s", "SIGKILL", id);
        awaitStatus(id, "STOPPED");
        containerd.ctr("task", "delete", id);
        containerd.ctr("container", "delete", id);
    }

    private void awaitStatus(String id, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!status(id).equals(expected)) {
            if (System.nanoTime() > deadline) fail(id + " never became " + expected + ": " + status(id) + diagnostics());
            Thread.sleep(100);
        }
    }

    private List<ProcessHandle> daemons() {
        return Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).contains(" daemon"))
                .toList();
    }

    /** CgroupMoveWarmUp's processes of this containerd's daemons. */
    private List<ProcessHandle> warmUps() {
        List<Long> ours = daemons().stream().map(ProcessHandle::pid).toList();
        return Processes.matching("cgroup-move-warm-up").stream()
                .filter(p -> p.parent().map(d -> ours.contains(d.pid())).orElse(false)).toList();
    }

    private List<ProcessHandle> qemusOf() {
        return Processes.qemus(containerd.uruncStateDir().toString());
    }

    /** No VMM, mount, task record or run directory remains for the task. */
    private void assertNothingLeftFor(String id) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<String> left = leftovers(id);
            if (left.isEmpty()) return;
            if (System.nanoTime() > deadline) fail("left behind for " + id + ": " + left + diagnostics());
            Thread.sleep(100);
        }
    }

    private List<String> leftovers(String id) throws IOException {
        List<String> left = new ArrayList<>();
        Path bundle = containerd.dir().resolve("state/io.containerd.runtime.v2.task/default/" + id);
        left.addAll(Mounts.under(bundle));
        Path record = containerd.uruncStateDir().resolve("tasks/default/" + id + ".json");
        if (Files.exists(record)) left.add(record + ": " + Files.readString(record, StandardCharsets.UTF_8));
        Path runDirs = containerd.uruncStateDir().resolve("t");
        Exec.Result tasks = containerd.ctr("task", "ls", "-q");
        if (Files.isDirectory(runDirs) && tasks.stdout().isBlank()) {
            try (Stream<Path> s = Files.list(runDirs)) {
                s.forEach(p -> left.add("run dir " + p));
            }
            qemusOf().forEach(p -> left.add("qemu " + p.pid()));
        }
        return left;
    }
}
