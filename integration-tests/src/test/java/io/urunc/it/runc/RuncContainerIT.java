package io.urunc.it.runc;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Ordinary containers (no unikernel metadata) through a real containerd and this build's shim, which
 * hands them to runc: output, exit codes, the task lifecycle, a dead daemon, and a unikernel alongside.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RuncContainerIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;
    private Path rootfs;

    @BeforeAll
    void start() throws Exception {
        containerd = Containerd.start();
        rootfs = BusyboxRootfs.create(containerd.dir(), "busybox");
    }

    @AfterAll
    void stop() {
        if (containerd == null) return;
        // Whatever a failed test left to runc (containerd.close() only knows the shim's own processes).
        for (String id : runcList()) {
            Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "runc", "--root", runcRoot().toString(),
                    "delete", "--force", id);
        }
        containerd.close();
    }

    @Test
    void outputAndExitCodeOfAContainerReachCtr() {
        Exec.Result r = ctrRun("--rm", "hello", "/bin/sh", "-c", "echo hello-runc; exit 3");
        assertEquals(3, r.exit(), r + diagnostics());
        assertTrue(r.stdout().contains("hello-runc"), r.toString());
        assertNothingLeftFor("hello");
    }

    @Test
    void aFailingCommandIsReportedWithRuncsOwnWords() {
        Exec.Result r = ctrRun("--rm", "nosuch", "/bin/no-such-program");
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.stderr().contains("no-such-program"), "runc's error reaches ctr: " + r);
        containerd.ctr("container", "delete", "nosuch");
        assertNothingLeftFor("nosuch");
    }

    @Test
    void aRunningContainerCanBeListedPausedResumedAndTerminated() throws Exception {
        // pid 1 ignores SIGTERM unless it traps it: the shell exits 143 as a killed process would.
        Process run = startRun("life", "/bin/sh", "-c", "trap 'exit 143' TERM; sleep 1001 & wait");
        try {
            awaitStatus("life", "RUNNING");
            Exec.Result ps = containerd.ctr("task", "ps", "life").ok();
            List<Long> pids = ps.stdout().lines().skip(1).map(l -> l.trim().split("\\s+")[0])
                    .filter(s -> s.matches("\\d+")).map(Long::parseLong).toList();
            assertEquals(2, pids.size(), "sh and sleep: " + ps);
            assertTrue(pids.stream().anyMatch(p -> Processes.cmdline(p).contains("sleep 1001")), ps.toString());

            containerd.ctr("task", "pause", "life").ok();
            assertEquals("PAUSED", status("life"));
            containerd.ctr("task", "resume", "life").ok();
            assertEquals("RUNNING", status("life"));

            containerd.ctr("task", "kill", "-s", "SIGTERM", "life").ok();
            assertTrue(run.waitFor(30, TimeUnit.SECONDS), "ctr run returns after SIGTERM");
            assertEquals(143, run.exitValue(), output("life") + diagnostics());
        } finally {
            run.destroyForcibly();
        }
        assertNothingLeftFor("life");
        assertTrue(sleeps("sleep 1001").isEmpty(), "the container's processes are gone");
    }

    @Test
    void aRunningTaskIsNotDeletedAndAFinishedOneCannotBeKilled() throws Exception {
        ctrRun("-d", "detached", "/bin/sleep", "1002").ok();
        awaitStatus("detached", "RUNNING");
        Path bundle = bundle("detached");
        assertTrue(Files.exists(bundle.resolve("init.pid")), "runc wrote the init's pid");
        assertTrue(runcList().contains("detached"), "runc keeps its state under the shim's state dir: " + runcList());

        Exec.Result refused = containerd.ctr("task", "delete", "detached");
        assertNotEquals(0, refused.exit(), "a running task is not deleted: " + refused);
        assertEquals("RUNNING", status("detached"));

        containerd.ctr("task", "kill", "-s", "SIGKILL", "detached").ok();
        awaitStatus("detached", "STOPPED");
        Exec.Result again = containerd.ctr("task", "kill", "-s", "SIGKILL", "detached");
        assertNotEquals(0, again.exit(), again.toString());
        assertTrue(again.stderr().contains("process already finished"), again.toString());

        containerd.ctr("task", "delete", "detached").ok();
        containerd.ctr("container", "delete", "detached").ok();
        assertNothingLeftFor("detached");
        assertTrue(sleeps("sleep 1002").isEmpty());
    }

    @Test
    void aKilledShimDaemonLeavesNoContainerBehind() throws Exception {
        ctrRun("-d", "orphan", "/bin/sleep", "1003").ok();
        awaitStatus("orphan", "RUNNING");
        assertEquals(1, sleeps("sleep 1003").size());
        List<ProcessHandle> d = daemons();
        assertEquals(1, d.size(), "one daemon: " + d);

        d.getFirst().destroyForcibly();
        // containerd sees the shim gone and runs `containerd-shim-urunc-v2 delete`: runc delete --force.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(!runcList().contains("orphan") && sleeps("sleep 1003").isEmpty() && Mounts.under(bundle("orphan")).isEmpty())) {
            if (System.nanoTime() > deadline) {
                fail("after the daemon died: runc " + runcList() + ", processes " + sleeps("sleep 1003") + diagnostics());
            }
            Thread.sleep(200);
        }
        assertFalse(containerd.ctr("task", "ls").stdout().contains("RUNNING"));
        containerd.ctr("task", "delete", "orphan");
        containerd.ctr("container", "delete", "orphan");
        assertNothingLeftFor("orphan");
    }

    @Test
    void aUnikernelAndAContainerRunInOneDaemon() throws Exception {
        Guests.importInto(containerd, "default", "tiny");
        ctrRun("-d", "side", "/bin/sleep", "1004").ok();
        containerd.ctr(Duration.ofMinutes(2), "run", "-d", "--runtime", RUNTIME, Guests.TINY, "uk", "run").ok();
        awaitStatus("side", "RUNNING");
        awaitStatus("uk", "RUNNING");
        assertEquals(1, daemons().size(), "one daemon serves both: " + daemons());
        assertTrue(runcList().contains("side") && !runcList().contains("uk"),
                "only the ordinary container went to runc: " + runcList());

        for (String id : List.of("side", "uk")) {
            containerd.ctr("task", "kill", "-s", "SIGKILL", id).ok();
            awaitStatus(id, "STOPPED");
            containerd.ctr("task", "delete", id).ok();
            containerd.ctr("container", "delete", id).ok();
            assertNothingLeftFor(id);
        }
        assertTrue(sleeps("sleep 1004").isEmpty());
    }

    /** {@code ctr run <mode> --rootfs <busybox> <id> <command...>}; mode is "--rm" or "-d". */
    private Exec.Result ctrRun(String mode, String id, String... command) {
        List<String> cmd = new ArrayList<>(List.of("run", "--runtime", RUNTIME, mode, "--rootfs", rootfs.toString(), id));
        cmd.addAll(List.of(command));
        return containerd.ctr(Duration.ofSeconds(60), cmd.toArray(String[]::new));
    }

    private Process startRun(String id, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "--address", containerd.socket().toString(), "run", "--rm",
                "--runtime", RUNTIME, "--rootfs", rootfs.toString(), id));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(containerd.dir().resolve(id + ".out").toFile());
        pb.environment().putAll(containerd.env());
        return pb.start();
    }

    private String output(String id) {
        try {
            return Files.readString(containerd.dir().resolve(id + ".out"));
        } catch (Exception e) {
            return "(no output)";
        }
    }

    private Path bundle(String id) {
        return containerd.dir().resolve("state/io.containerd.runtime.v2.task/default/" + id);
    }

    private List<String> runcList() {
        if (!Files.isDirectory(runcRoot())) return List.of(); // runc list would create it
        Exec.Result r = Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "runc", "--root", runcRoot().toString(),
                "list", "-q");
        return r.stdout().lines().filter(l -> !l.isBlank()).toList();
    }

    private Path runcRoot() {
        return containerd.uruncStateDir().resolve("runc/default");
    }

    /** The container processes running this sleep (not the ctr command that asked for it). */
    private List<ProcessHandle> sleeps(String cmdline) {
        return Processes.matching(cmdline).stream()
                .filter(p -> Processes.cmdline(p.pid()).matches("(/bin/)?" + cmdline + " *")).toList();
    }

    private List<ProcessHandle> daemons() {
        return Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
    }

    private String status(String id) {
        Exec.Result r = containerd.ctr("task", "ls");
        return r.stdout().lines().map(l -> l.trim().split("\\s+")).filter(f -> f[0].equals(id))
                .map(f -> f[f.length - 1]).findFirst().orElse("ABSENT");
    }

    private void awaitStatus(String id, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!status(id).equals(expected)) {
            if (System.nanoTime() > deadline) fail(id + " never became " + expected + ": " + status(id) + diagnostics());
            Thread.sleep(100);
        }
    }

    /** No runc container, mount, task record or runc record remains for the task. */
    private void assertNothingLeftFor(String id) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<String> left = new ArrayList<>(Mounts.under(bundle(id)));
            if (runcList().contains(id)) left.add("runc container " + id);
            for (Path p : List.of(containerd.uruncStateDir().resolve("runc-tasks/default/" + id + ".json"),
                    containerd.uruncStateDir().resolve("tasks/default/" + id + ".json"))) {
                if (Files.exists(p)) left.add(p.toString());
            }
            if (left.isEmpty()) return;
            if (System.nanoTime() > deadline) fail("left behind for " + id + ": " + left + diagnostics());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }
}
