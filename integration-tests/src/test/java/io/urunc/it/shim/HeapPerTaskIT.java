package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What one running task costs the daemon's heap, measured (live objects after a full GC): the figure the daemon's
 * -Xmx is sized from (StartCommand), and a guard that it stays there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HeapPerTaskIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private static final int TASKS = 10;
    /** Retained heap per running task (46 KiB measured on 2026-12-01); -Xmx64m is sized from it (StartCommand). */
    private static final long CEILING_PER_TASK = 128 << 10;
    private static final Pattern USED = Pattern.compile("used (\\d+)K");
    private Containerd containerd;

    @BeforeAll
    void startContainerd() throws Exception {
        containerd = Containerd.start();
        Guests.importInto(containerd, "default", "tiny");
    }

    @AfterAll
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    private long daemonPid() {
        List<ProcessHandle> d = Processes.matching("io.urunc.shim.Main").stream()
                .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
        assertEquals(1, d.size(), d.toString());
        return d.getFirst().pid();
    }

    /** Bytes of live objects on the daemon's heap, after a full collection. */
    private long liveHeap(long pid) {
        String jcmd = Containerd.JAVA.replace("/bin/java", "/bin/jcmd");
        Exec.run(Duration.ofSeconds(30), Map.of(), jcmd, Long.toString(pid), "GC.run").ok();
        Exec.Result info = Exec.run(Duration.ofSeconds(30), Map.of(), jcmd, Long.toString(pid), "GC.heap_info").ok();
        long used = 0;
        for (String line : info.stdout().lines().toList()) {
            Matcher m = USED.matcher(line);
            // one line per generation (DefNew, Tenured), its spaces indented below it
            if (!line.startsWith(" ") && line.contains(" total ") && m.find()) used += Long.parseLong(m.group(1)) << 10;
        }
        assertTrue(used > 0, info.stdout());
        return used;
    }

    @Test
    void aRunningTaskCostsTheDaemonLessThanItsCeiling() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "heap-0", "run").ok();
        long pid = daemonPid();
        long before = liveHeap(pid);
        for (int i = 1; i <= TASKS; i++) containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "heap-" + i, "run").ok();
        long after = liveHeap(pid);
        long perTask = (after - before) / TASKS;
        System.out.printf("daemon live heap: %d KiB with 1 task, %d KiB with %d: %d KiB per task%n",
                before >> 10, after >> 10, TASKS + 1, perTask >> 10);
        // Containerd.close() kills and deletes the tasks
        assertTrue(perTask < CEILING_PER_TASK, "a task costs " + perTask + " bytes of heap");
    }
}
