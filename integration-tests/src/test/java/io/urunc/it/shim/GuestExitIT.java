package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Honest exit codes on QEMU (TCG) through ctr: a kernel panic the guest reports on QEMU's pvpanic device (the test
 * guest's /init loads the driver) is a crash, 255; a guest that powers off or reboots is 0; a QEMU killed from
 * outside (kill -9, the OOM killer) is 137, and an OOM kill in the task's cgroup is a /tasks/oom event.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestExitIT {
    @Parameter
    Stack stack;
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;

    @BeforeParameterizedClassInvocation
    void startContainerd() throws Exception {
        containerd = Containerd.start(stack);
        Guests.importInto(containerd, "default", "hello", "tiny");
    }

    @AfterParameterizedClassInvocation
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    /** {@code ctr run --rm} of the Linux test guest with {@code args} as its command, in the background. */
    private CompletableFuture<Exec.Result> run(String id, String... args) {
        List<String> cmd = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME, Guests.HELLO, id));
        cmd.addAll(List.of(args));
        return CompletableFuture.supplyAsync(() -> containerd.ctr(Duration.ofMinutes(2), cmd.toArray(String[]::new)));
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    @Test
    void aKernelPanicReportsACrashAndAPowerOffReportsZero() throws Exception {
        var panic = run("linux-panic", "/init", "/bin/sh", "-c", "echo c > /proc/sysrq-trigger");
        var clean = run("linux-clean", "/init", "/bin/busybox", "true");
        Exec.Result p = panic.get(3, TimeUnit.MINUTES);
        assertTrue(p.stdout().contains("Kernel panic"), p.toString());
        assertEquals(255, p.exit(), p + diagnostics());
        Exec.Result c = clean.get(3, TimeUnit.MINUTES);
        assertEquals(0, c.exit(), c + diagnostics());
        assertTrue(c.stdout().contains("URUNC-GUEST: exit code 0"), c.toString());
    }

    @Test
    void aGuestThatEndsByRebootingReportsZeroAsUruncsUrunitDoes() throws Exception {
        Exec.Result r = run("linux-reboot", "/init", "/bin/busybox", "reboot", "-f").get(3, TimeUnit.MINUTES);
        assertEquals(0, r.exit(), r + diagnostics());
    }

    /** A {@code ctr run --rm} in the background, its output in a file; its exit value is the task's exit code. */
    private Process runInBackground(String id, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME));
        cmd.addAll(List.of(args));
        return containerd.ctrInBackground(containerd.dir().resolve(id + ".out"), cmd.toArray(String[]::new));
    }

    /** {@code ctr events} until closed: the topics and payloads containerd published. */
    private Process events(String id) throws IOException {
        return containerd.ctrInBackground(containerd.dir().resolve(id + ".events"), "events");
    }

    private List<String> eventsOf(String id) throws IOException {
        return Files.readAllLines(containerd.dir().resolve(id + ".events")).stream().filter(l -> l.contains("\"" + id + "\"")).toList();
    }

    /** The QEMU of a running task: the process under the task's pid (the wrapper in front of QEMU). */
    private ProcessHandle qemuOf(String id) {
        String pid = containerd.ctr("task", "ls").stdout().lines().map(l -> l.trim().split("\\s+"))
                .filter(f -> f[0].equals(id)).map(f -> f[1]).findFirst().orElseThrow();
        List<ProcessHandle> q = Processes.qemus(containerd.uruncStateDir().toString()).stream()
                .filter(p -> p.pid() == Long.parseLong(pid) || p.parent().map(ProcessHandle::pid).orElse(-1L) == Long.parseLong(pid))
                .toList();
        assertEquals(1, q.size(), "one QEMU for " + id + " (pid " + pid + "): " + q + diagnostics());
        return q.getFirst();
    }

    private static boolean killedNine(String line) {
        return line.contains("/tasks/exit") && line.contains("\"exit_status\":137");
    }

    /**
     * QEMU's status 137 is the guest writing 68 to isa-debug-exit (2N+1); a QEMU killed by SIGKILL from outside the
     * shim is 137, never read as that guest code, and no OOM is claimed.
     */
    @Test
    void aQemuKilledFromOutsideReports137AndAGuestThatExits68Reports68() throws Exception {
        Exec.Result sixtyEight = containerd.ctr(Duration.ofMinutes(2), "run", "--rm", "--runtime", RUNTIME, Guests.TINY, "tiny-68", "exit=68");
        assertEquals(68, sixtyEight.exit(), sixtyEight + diagnostics());

        Process events = events("tiny-sigkill");
        Process run = runInBackground("tiny-sigkill", Guests.TINY, "tiny-sigkill", "run");
        try {
            TaskStatus.await(containerd, "tiny-sigkill", "RUNNING", this::diagnostics);
            ProcessHandle qemu = qemuOf("tiny-sigkill");
            new ProcessBuilder("kill", "-KILL", Long.toString(qemu.pid())).start().waitFor();
            assertTrue(run.waitFor(60, TimeUnit.SECONDS), "ctr run returns once QEMU is gone");
            assertEquals(137, run.exitValue(), Files.readString(containerd.dir().resolve("tiny-sigkill.out")) + diagnostics());
        } finally {
            run.destroyForcibly();
            Thread.sleep(300); // let ctr events print the last ones
            events.destroy();
            events.waitFor(5, TimeUnit.SECONDS);
        }
        List<String> seen = eventsOf("tiny-sigkill");
        assertTrue(seen.stream().anyMatch(GuestExitIT::killedNine), seen.toString());
        assertTrue(seen.stream().noneMatch(l -> l.contains("/tasks/oom")), "a kill -9 is no OOM: " + seen);
        assertTrue(containerd.shimLogs().contains("killed by signal 9 -> exit code 137"), diagnostics());
    }

    /**
     * The OOM killer in the task's cgroup: the task runs under a parent cgroup with a memory limit (as a Kubernetes
     * pod's cgroup has), and the guest fills its RAM disk past it, so QEMU's memory grows until the kernel kills it.
     * The task exits 137 and containerd hears /tasks/oom before /tasks/exit.
     */
    @Test
    void aQemuTheOomKillerKillsReports137WithTaskOom() throws Exception {
        Path memory = Path.of("/sys/fs/cgroup/memory");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(memory) || Files.exists(Path.of("/sys/fs/cgroup/memory.max")),
                "a memory controller");
        boolean v2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
        String parent = "uit-oom-" + ProcessHandle.current().pid();
        Path parentDir = v2 ? Path.of("/sys/fs/cgroup", parent) : memory.resolve(parent);
        Files.createDirectories(parentDir);
        String id = "linux-oom";
        Process events = events(id);
        try {
            if (v2) Files.writeString(Path.of("/sys/fs/cgroup/cgroup.subtree_control"), "+memory");
            Files.writeString(parentDir.resolve(v2 ? "memory.max" : "memory.limit_in_bytes"), Long.toString(300L << 20));
            // a 1 GiB guest (the VM is sized from the limit in the spec; the 300 MiB limit is its parent's)
            Exec.Result r = containerd.ctr(Duration.ofMinutes(3), "run", "--rm", "--runtime", RUNTIME,
                    "--memory-limit", Long.toString(1L << 30), "--cgroup", "/" + parent + "/" + id, Guests.HELLO, id,
                    "/init", "/bin/sh", "-c", "head -c 700000000 /dev/zero > /fill; echo $((6*7))-filled");
            assertEquals(137, r.exit(), r + diagnostics());
            assertFalse(r.stdout().contains("42-filled"), "the guest never got to fill its RAM disk: " + r);
            Thread.sleep(300);
            List<String> seen = eventsOf(id);
            int oom = indexOf(seen, "/tasks/oom"), exit = indexOf(seen, "/tasks/exit");
            assertTrue(oom >= 0 && exit > oom, "TaskOOM, then TaskExit: " + seen);
            assertTrue(killedNine(seen.get(exit)), seen.toString());
            assertTrue(containerd.shimLogs().contains("by the OOM killer -> exit code 137"), diagnostics());
        } finally {
            events.destroy();
            events.waitFor(5, TimeUnit.SECONDS);
            // the shim removes the task's cgroup; the parents it made in the other hierarchies are the test's
            try (var dirs = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path h : dirs.toList()) Files.deleteIfExists(v2 ? parentDir : h.resolve(parent));
            } catch (IOException e) {
                // reported by the leftover check below
            }
        }
        assertFalse(Files.exists(parentDir), parentDir + " left behind");
    }

    private static int indexOf(List<String> lines, String topic) {
        for (int i = 0; i < lines.size(); i++) if (lines.get(i).contains(topic)) return i;
        return -1;
    }
}
