package io.urunc.it.runc;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Processes around a runc container: a terminal (pty over runc's console socket), and orphans of a
 * container in the host pid namespace, which end up with the shim daemon and must be reaped by it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RuncProcessesIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    /** This test JVM's pid namespace: the host's, where the shim daemon runs. */
    private static final String HOST_PID_NS = "pid:/proc/" + ProcessHandle.current().pid() + "/ns/pid";
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
        Path root = containerd.uruncStateDir().resolve("runc/default");
        if (Files.isDirectory(root)) {
            for (String id : Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "runc", "--root", root.toString(),
                    "list", "-q").stdout().lines().filter(l -> !l.isBlank()).toList()) {
                Exec.run(Duration.ofSeconds(10), java.util.Map.of(), "runc", "--root", root.toString(), "delete", "--force", id);
            }
        }
        containerd.close();
    }

    @Test
    void aTerminalContainerTalksThroughItsPty() {
        // ctr -t needs a terminal of its own: script(1) gives it one.
        String ctr = String.join(" ", "ctr", "--address", containerd.socket().toString(), "run", "--rm", "-t",
                "--runtime", RUNTIME, "--rootfs", rootfs.toString(), "term",
                "/bin/sh", "-c", "'test -t 0 && test -t 1 && echo hello-tty; exit 5'");
        Exec.Result r = Exec.run(Duration.ofSeconds(60), containerd.env(), "script", "-qefc", ctr, "/dev/null");
        assertEquals(5, r.exit(), r + shimLogs());
        assertTrue(r.stdout().contains("hello-tty"), "stdin and stdout are the container's terminal: " + r);
    }

    @Test
    void orphansOfAContainerInTheHostPidNamespaceAreReaped() throws Exception {
        // The subshell's sleep is orphaned at once: in the host pid namespace it is reparented to the daemon.
        ctr("run", "-d", "--runtime", RUNTIME, "--with-ns", HOST_PID_NS, "--rootfs", rootfs.toString(),
                "orphans", "/bin/sh", "-c", "(/bin/sleep 1 &); exec /bin/sleep 1006").ok();
        long daemon = daemonPid();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && !processesMatching("sleep 1 ").isEmpty()) Thread.sleep(100);
        assertTrue(processesMatching("sleep 1 ").isEmpty(), "the orphan ran out");
        Thread.sleep(3000); // the daemon sweeps every 2 s
        assertEquals(List.of(), zombieChildren(daemon), "the dead orphan was reaped by the daemon");

        // When the init dies, the rest of a host-pid-namespace container is ended and reaped too.
        ctr("run", "-d", "--runtime", RUNTIME, "--with-ns", HOST_PID_NS, "--rootfs", rootfs.toString(),
                "leftover", "/bin/sh", "-c", "/bin/sleep 1007 & exec /bin/sleep 1008").ok();
        // ctr returns once the init runs; its shell may not have forked the child yet
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && processesMatching("sleep 1007").isEmpty()) Thread.sleep(50);
        assertEquals(1, processesMatching("sleep 1007").size());
        ctr("task", "kill", "-s", "SIGKILL", "leftover").ok();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline
                && (!processesMatching("sleep 1007").isEmpty() || !zombieChildren(daemon).isEmpty())) {
            Thread.sleep(100);
        }
        assertTrue(processesMatching("sleep 1007").isEmpty(), "the init's child was ended with it");
        assertEquals(List.of(), zombieChildren(daemon), "and reaped");

        for (String id : List.of("orphans", "leftover")) {
            ctr("task", "kill", "-s", "SIGKILL", id);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < until && ctr("task", "delete", id).exit() != 0) Thread.sleep(100);
            ctr("container", "delete", id).ok();
        }
        assertTrue(processesMatching("sleep 100").isEmpty());
        assertEquals(List.of(), zombieChildren(daemon));
    }

    private Exec.Result ctr(String... args) {
        return containerd.ctr(Duration.ofSeconds(60), args);
    }

    private long daemonPid() {
        List<ProcessHandle> d = Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
        assertEquals(1, d.size(), "one daemon: " + d);
        return d.getFirst().pid();
    }

    private static List<ProcessHandle> processesMatching(String cmdline) {
        return Processes.matching(cmdline).stream()
                .filter(p -> Processes.cmdline(p.pid()).startsWith("/bin/" + cmdline.strip())).toList();
    }

    /** The daemon's zombie children (their command lines are gone: only /proc/<pid>/stat says so). */
    private static List<Long> zombieChildren(long parent) {
        List<Long> zombies = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : dirs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (f[0].equals("Z") && Long.parseLong(f[1]) == parent) zombies.add(Long.parseLong(p.getFileName().toString()));
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return zombies;
    }

    private String shimLogs() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }
}
