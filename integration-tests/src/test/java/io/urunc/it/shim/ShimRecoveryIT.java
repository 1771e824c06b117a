package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** What happens around a task: a dead shim daemon, stdin to the guest console, statistics. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ShimRecoveryIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;

    @BeforeAll
    void start() throws Exception {
        containerd = Containerd.start();
        Guests.importInto(containerd, "default", "tiny", "hello");
    }

    @AfterAll
    void stop() {
        if (containerd != null) containerd.close();
    }

    private List<ProcessHandle> daemons() {
        return Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
    }

    private List<ProcessHandle> qemus() {
        return Processes.qemus(containerd.uruncStateDir().toString());
    }

    @Test
    void aKilledDaemonIsCleanedUpByTheDeleteCommand() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "orphan", "run").ok();
        assertEquals(1, qemus().size(), "the VM runs");
        List<ProcessHandle> d = daemons();
        assertEquals(1, d.size(), "one daemon: " + d);
        Path bundle = containerd.dir().resolve("state/io.containerd.runtime.v2.task/default/orphan");
        assertFalse(Mounts.under(bundle).isEmpty());

        String[] argv = Processes.cmdline(d.getFirst().pid()).split(" ");
        Path socket = Path.of(argv[java.util.Arrays.asList(argv).indexOf("-socket") + 1]);
        assertTrue(Files.exists(socket), socket + " is the daemon's socket");

        d.getFirst().destroyForcibly();
        // containerd sees the shim gone, reports the task exited and runs `containerd-shim-urunc-v2 delete`.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!(qemus().isEmpty() && Mounts.under(bundle).isEmpty()
                && !Files.exists(containerd.uruncStateDir().resolve("tasks/default/orphan.json")))) {
            if (System.nanoTime() > deadline) {
                fail("after the daemon died: qemu " + qemus() + ", mounts " + Mounts.under(bundle)
                        + "\n" + containerd.log());
            }
            Thread.sleep(200);
        }
        assertFalse(Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "the dead daemon's socket " + socket + " is removed by the delete");
        Exec.Result ls = containerd.ctr("task", "ls");
        assertFalse(ls.stdout().contains("RUNNING"), ls.toString());
        containerd.ctr("task", "delete", "orphan");
        containerd.ctr("container", "delete", "orphan");

        // The next task starts a fresh daemon.
        Exec.Result again = containerd.ctr("run", "--rm", "--runtime", RUNTIME, Guests.TINY, "after", "exit=2");
        assertEquals(2, again.exit(), again + containerd.shimLogs());
    }

    @Test
    void stdinReachesTheGuestConsole() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("ctr", "--address", containerd.socket().toString(), "run", "--rm",
                "--runtime", RUNTIME, Guests.HELLO, "console", "/init", "/bin/sh").redirectErrorStream(true);
        pb.environment().putAll(containerd.env());
        Process p = pb.start();
        StringBuilder seen = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             OutputStream in = p.getOutputStream()) {
            String line;
            boolean sent = false;
            while ((line = out.readLine()) != null) {
                seen.append(line).append('\n');
                if (!sent && line.contains("URUNC-GUEST: init")) {
                    Thread.sleep(500);
                    in.write("echo MARK-$((6*7)); exit 4\n".getBytes(StandardCharsets.UTF_8));
                    in.flush();
                    sent = true;
                }
            }
        } finally {
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        assertTrue(seen.toString().contains("MARK-42"), "the guest shell ran what we typed:\n" + seen);
        assertEquals(4, p.exitValue(), seen.toString());
    }

    @Test
    void metricsComeFromTheVmmsCgroup() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "stats", "run").ok();
        try {
            Exec.Result m = containerd.ctr("task", "metrics", "stats");
            assertEquals(0, m.exit(), m + containerd.shimLogs());
            String memoryLine = m.stdout().lines().filter(l -> l.startsWith("memory.usage_in_bytes")
                    || l.startsWith("memory.usage")).findFirst().orElse("");
            assertFalse(memoryLine.isEmpty(), m.toString());
            long bytes = Long.parseLong(memoryLine.trim().split("\\s+")[1]);
            assertTrue(bytes > 1 << 20, "QEMU uses more than 1 MiB: " + m);
        } finally {
            containerd.ctr("task", "kill", "-s", "SIGKILL", "stats");
            Thread.sleep(300);
            containerd.ctr("task", "delete", "stats");
            containerd.ctr("container", "delete", "stats");
        }
    }
}
