package io.urunc.it.runc;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Processes;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
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
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ctr task exec} into containers the shim hands to runc, on both containerd versions: exit codes, output,
 * a terminal, signals, the events containerd's runc shim publishes (TaskExecAdded, TaskExecStarted, TaskExit with the
 * exec id, the init's exit last), and nothing left once exec processes and their container are gone. A unikernel
 * still refuses exec with its own reason.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RuncExecIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    @Parameter
    Stack stack;
    private Containerd containerd;
    private Path rootfs;

    @BeforeParameterizedClassInvocation
    void start() throws Exception {
        containerd = Containerd.start(stack);
        rootfs = BusyboxRootfs.create(containerd.dir(), "busybox");
    }

    @AfterParameterizedClassInvocation
    void stop() {
        if (containerd == null) return;
        Path root = runcRoot();
        if (Files.isDirectory(root)) {
            for (String id : runcList()) {
                Exec.run(Duration.ofSeconds(10), Map.of(), "runc", "--root", root.toString(), "delete", "--force", id);
            }
        }
        containerd.close();
    }

    @Test
    void anExecReportsItsOutputAndExitCodeWithTheRuncShimsEvents() throws Exception {
        runDetached("box", "/bin/sleep", "2001");
        Process events = watchEvents("box-events");
        try {
            Exec.Result r = ctr("task", "exec", "--exec-id", "x1", "box", "/bin/sh", "-c",
                    "echo exec-out; echo exec-err >&2; exit 3");
            assertEquals(3, r.exit(), r + diagnostics());
            assertTrue(r.stdout().contains("exec-out"), r.toString());
            assertTrue(r.stderr().contains("exec-err"), r.toString());

            List<String> seen = awaitEvents("box-events", "box", l -> l.contains("/tasks/exit"));
            assertEquals(List.of("/tasks/exec-added x1", "/tasks/exec-started x1", "/tasks/exit x1 3"), seen,
                    "the events of the exec, in containerd's runc shim's order");

            // ctr deleted the exec process: its id is free again, and it left nothing.
            Exec.Result again = ctr("task", "exec", "--exec-id", "x1", "box", "/bin/true");
            assertEquals(0, again.exit(), again + diagnostics());
            Exec.Result missing = ctr("task", "exec", "--exec-id", "x2", "box", "/bin/no-such-program");
            assertNotEquals(0, missing.exit(), missing.toString());
            assertTrue(missing.stderr().contains("no-such-program"), "runc's reason reaches ctr: " + missing);
            assertEquals(List.of(), execFiles(), "exec processes leave no files once deleted");
            assertEquals("RUNNING", status("box"));
            assertEquals(1, ctr("task", "ps", "box").ok().stdout().lines().skip(1).filter(l -> !l.isBlank()).count(),
                    "only the init is left in the container");
        } finally {
            events.destroyForcibly();
            remove("box");
        }
    }

    @Test
    void stdinTheClientClosesEarlyIsStillReadToItsEnd() throws Exception {
        runDetached("in", "/bin/sleep", "2007");
        try {
            // ctr copies its stdin to the FIFO and sends CloseIO at its EOF: often before the exec has started.
            for (int i = 0; i < 5; i++) {
                String ctr = String.join(" ", containerd.ctrCommand("task", "exec",
                        "--exec-id", "in" + i, "in", "/bin/sh", "-c", "'cat; exit 7'"));
                Exec.Result r = Exec.run(Duration.ofSeconds(60), containerd.env(), "/bin/sh", "-c",
                        "echo piped-in-" + i + " | " + ctr);
                assertEquals(7, r.exit(), r + diagnostics());
                assertEquals("piped-in-" + i, r.stdout().strip(), "the exec read its stdin to EOF: " + r);
            }
        } finally {
            remove("in");
        }
    }

    @Test
    void aTerminalExecTalksThroughItsPty() throws Exception {
        runDetached("term", "/bin/sleep", "2002");
        try {
            // ctr -t needs a terminal of its own: script(1) gives it one, of a size ctr passes on with ResizePty (after
            // Start: the command waits a moment before it looks).
            String exec = "stty rows 33 cols 101; " + String.join(" ", containerd.ctrCommand("task", "exec", "-t",
                    "--exec-id", "t1", "term", "/bin/sh", "-c",
                    "'test -t 0 && test -t 1 && echo hello-exec-tty; sleep 1; /bin/busybox stty size; exit 4'"));
            Exec.Result r = Exec.run(Duration.ofSeconds(60), containerd.env(), "script", "-qefc", exec, "/dev/null");
            assertEquals(4, r.exit(), r + diagnostics());
            assertTrue(r.stdout().contains("hello-exec-tty"), "stdin and stdout are the exec's terminal: " + r);
            assertTrue(r.stdout().contains("33 101"), "the terminal has the client's size: " + r);
            assertEquals(List.of(), execFiles());
        } finally {
            remove("term");
        }
    }

    @Test
    void aSignalEndsTheExecProcessAloneAndItsStatusSaysSo() throws Exception {
        runDetached("sig", "/bin/sleep", "2003");
        Process exec = ctrProcess("sig-exec", "task", "exec", "--exec-id", "k1", "sig", "/bin/sleep", "2004");
        try {
            awaitProcess("sleep 2004");
            long execPid = sleeps("sleep 2004").getFirst().pid();
            // the process runs before `runc exec --detach` has returned its pid to the shim, which then records it
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Exec.Result ps = ctr("task", "ps", "sig").ok();
            while (ps.stdout().lines().noneMatch(l -> l.trim().startsWith(execPid + " ") && l.contains("k1"))
                    && System.nanoTime() < deadline) {
                sleep(100);
                ps = ctr("task", "ps", "sig").ok();
            }
            Exec.Result listed = ps;
            assertTrue(listed.stdout().lines().anyMatch(l -> l.trim().startsWith(execPid + " ") && l.contains("k1")),
                    "ctr task ps names the exec process's exec id: " + listed);
            ctr("task", "kill", "--exec-id", "k1", "-s", "SIGKILL", "sig").ok();
            assertTrue(exec.waitFor(30, TimeUnit.SECONDS), "ctr task exec returns once the exec is killed");
            assertEquals(137, exec.exitValue(), output("sig-exec") + diagnostics());
            assertTrue(sleeps("sleep 2004").isEmpty(), "the exec process is gone");
            assertEquals("RUNNING", status("sig"), "its container runs on");
        } finally {
            exec.destroyForcibly();
            remove("sig");
        }
    }

    @Test
    void execProcessesEndWithTheirContainerWhoseExitComesLast() throws Exception {
        runDetached("ends", "/bin/sleep", "2005");
        Process events = watchEvents("ends-events");
        Process exec = ctrProcess("ends-exec", "task", "exec", "--exec-id", "e1", "ends", "/bin/sleep", "2006");
        try {
            awaitProcess("sleep 2006");
            ctr("task", "kill", "-s", "SIGKILL", "ends").ok();
            assertTrue(exec.waitFor(30, TimeUnit.SECONDS), "the exec ends with its container");
            assertEquals(137, exec.exitValue(), output("ends-exec") + diagnostics());
            List<String> seen = awaitEvents("ends-events", "ends", l -> l.contains("/tasks/exit") && l.contains("\"id\":\"ends\""));
            List<String> exits = seen.stream().filter(l -> l.startsWith("/tasks/exit")).toList();
            assertEquals(List.of("/tasks/exit e1 137", "/tasks/exit ends 137"), exits,
                    "the exec's exit is published before the init's: " + seen);
            assertTrue(sleeps("sleep 2006").isEmpty() && sleeps("sleep 2005").isEmpty());
        } finally {
            events.destroyForcibly();
            exec.destroyForcibly();
            remove("ends");
        }
        assertFalse(runcList().contains("ends"));
        assertEquals(List.of(), execFiles());
    }

    @Test
    void execIntoAUnikernelIsRefusedWithItsReason() {
        Guests.importInto(containerd, "default", "tiny");
        containerd.ctr(Duration.ofMinutes(2), "run", "-d", "--runtime", RUNTIME, Guests.TINY, "uk", "run").ok();
        try {
            Exec.Result r = ctr("task", "exec", "--exec-id", "u1", "uk", "/bin/sh");
            assertNotEquals(0, r.exit(), r.toString());
            assertTrue(r.stderr().contains("a unikernel runs a single application"), r.toString());
        } finally {
            remove("uk");
        }
    }

    private void runDetached(String id, String... command) throws InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("run", "-d", "--runtime", RUNTIME, "--rootfs", rootfs.toString(), id));
        cmd.addAll(List.of(command));
        ctr(cmd.toArray(String[]::new)).ok();
        awaitStatus(id, "RUNNING");
    }

    private void remove(String id) {
        ctr("task", "kill", "-s", "SIGKILL", id);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < until && ctr("task", "delete", id).exit() != 0 && !status(id).equals("ABSENT")) {
            sleep(100);
        }
        ctr("container", "delete", id);
    }

    private Exec.Result ctr(String... args) {
        return containerd.ctr(Duration.ofSeconds(60), args);
    }

    /** A ctr command left running, its output in {@code <name>.out}. */
    private Process ctrProcess(String name, String... args) throws IOException {
        return containerd.ctrInBackground(containerd.dir().resolve(name + ".out"), args);
    }

    private Process watchEvents(String name) throws IOException {
        Process p = ctrProcess(name, "events");
        sleep(300); // subscribed before anything happens
        return p;
    }

    /**
     * The task events of container {@code id} seen so far as "topic execOrContainerId [exitStatus]", waiting until
     * one matching {@code last} has come.
     */
    private List<String> awaitEvents(String name, String id, java.util.function.Predicate<String> last) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<String> lines = output(name).lines().filter(l -> l.contains("/tasks/"))
                    .filter(l -> l.contains("\"container_id\":\"" + id + "\"")).toList();
            if (lines.stream().anyMatch(last)) return lines.stream().map(RuncExecIT::summary).toList();
            if (System.nanoTime() > deadline) fail("no such event for " + id + " in:\n" + output(name));
            sleep(100);
        }
    }

    private static String summary(String line) {
        String topic = line.replaceAll(".*(/tasks/[a-z-]+).*", "$1");
        String execId = field(line, "exec_id");
        if (topic.equals("/tasks/exit")) return topic + " " + field(line, "id") + " " + number(line, "exit_status");
        if (topic.startsWith("/tasks/exec")) return topic + " " + execId;
        return topic;
    }

    private static String field(String line, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(line);
        return m.find() ? m.group(1) : "";
    }

    private static String number(String line, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\":(\\d+)").matcher(line);
        return m.find() ? m.group(1) : "0";
    }

    private String output(String name) {
        try {
            return Files.readString(containerd.dir().resolve(name + ".out"));
        } catch (IOException e) {
            return "(no output)";
        }
    }

    /** Files the shim keeps for exec processes in the tasks' run dirs (spec, pid file, console socket). */
    private List<String> execFiles() throws IOException {
        Path t = containerd.uruncStateDir().resolve("t");
        if (!Files.isDirectory(t)) return List.of();
        try (Stream<Path> walk = Files.walk(t)) {
            return walk.filter(p -> p.getFileName().toString().matches("x\\d+\\.(json|pid|sock)")).map(Path::toString).toList();
        }
    }

    private void awaitProcess(String cmdline) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (sleeps(cmdline).isEmpty()) {
            if (System.nanoTime() > deadline) fail(cmdline + " never ran" + diagnostics());
            sleep(50);
        }
    }

    private List<ProcessHandle> sleeps(String cmdline) {
        return Processes.matching(cmdline).stream()
                .filter(p -> Processes.cmdline(p.pid()).matches("(/bin/)?" + cmdline + " *")).toList();
    }

    private Path runcRoot() {
        return containerd.uruncStateDir().resolve("runc/default");
    }

    private List<String> runcList() {
        if (!Files.isDirectory(runcRoot())) return List.of();
        return Exec.run(Duration.ofSeconds(10), Map.of(), "runc", "--root", runcRoot().toString(), "list", "-q")
                .stdout().lines().filter(l -> !l.isBlank()).toList();
    }

    private String status(String id) {
        return ctr("task", "ls").stdout().lines().map(l -> l.trim().split("\\s+")).filter(f -> f[0].equals(id))
                .map(f -> f[f.length - 1]).findFirst().orElse("ABSENT");
    }

    private void awaitStatus(String id, String expected) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!status(id).equals(expected)) {
            if (System.nanoTime() > deadline) fail(id + " never became " + expected + ": " + status(id) + diagnostics());
            sleep(100);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }
}
