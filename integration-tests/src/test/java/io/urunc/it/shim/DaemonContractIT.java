package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Daemons;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What the daemon owes containerd and the node beyond a task's own life: task events in the order containerd's runc
 * shim sends them (as `ctr events` shows them), and a bounded heap per task.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonContractIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private static final int TASKS = 10;
    /** Retained heap per running task (38 to 46 KiB measured on 2026-12-01); -Xmx64m is sized from it (StartCommand). */
    private static final long CEILING_PER_TASK = 128 << 10;
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

    /** The task topics of one container, in the order containerd published them, while {@code action} ran. */
    private List<String> topicsOf(String id, Runnable action) throws Exception {
        Path out = containerd.dir().resolve(id + ".events");
        ProcessBuilder pb = new ProcessBuilder("ctr", "--address", containerd.socket().toString(), "events")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(containerd.env());
        Process events = pb.start();
        try {
            Thread.sleep(500);
            action.run();
            Thread.sleep(1500); // an exit published late would arrive here
        } finally {
            events.destroy();
            events.waitFor(5, TimeUnit.SECONDS);
        }
        return Files.readAllLines(out).stream()
                .filter(l -> l.contains("\"" + id + "\"") || l.contains(":" + id + ",") || l.contains("\"container_id\":\"" + id))
                .map(l -> l.replaceAll(".*?(/tasks/[a-z-]+).*", "$1"))
                .filter(t -> t.startsWith("/tasks/"))
                .toList();
    }

    private Exec.Result run(String... args) {
        return containerd.ctr(Duration.ofMinutes(2), Exec.concat(List.of("run", "--rm", "--runtime", RUNTIME), args)
                .toArray(String[]::new));
    }

    @Test
    void aVmmThatDiesDuringCreateGetsNoTaskExit() throws Exception {
        Exec.Result[] r = new Exec.Result[1];
        // not a kernel: QEMU starts, refuses it and exits while Create waits for its control socket
        List<String> topics = topicsOf("dies-in-create", () -> r[0] = run("--annotation",
                "com.urunc.unikernel.binary=/urunc.json", Guests.TINY, "dies-in-create", "exit=0"));
        assertNotEquals(0, r[0].exit(), r[0].toString());
        assertTrue(r[0].stderr().contains("qemu exited with status 1"), r[0].toString());
        assertFalse(topics.contains("/tasks/exit"), "no TaskExit for a task whose Create failed: " + topics);
        assertFalse(topics.contains("/tasks/create"), topics.toString());
        containerd.ctr("container", "delete", "dies-in-create");
    }

    @Test
    void aTaskThatRunsReportsCreateStartExitDeleteInThatOrder() throws Exception {
        Exec.Result[] r = new Exec.Result[1];
        List<String> topics = topicsOf("in-order", () -> r[0] = run(Guests.TINY, "in-order", "exit=3"));
        assertEquals(3, r[0].exit(), r[0].toString());
        assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"), topics);
    }

    @Test
    void aRunningTaskCostsTheDaemonLessThanItsCeiling() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "heap-0", "run").ok();
        long pid = Daemons.pidOf(containerd);
        long before = Daemons.liveHeap(pid);
        int threadsBefore = Daemons.threadCount(pid);
        for (int i = 1; i <= TASKS; i++) containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "heap-" + i, "run").ok();
        long after = Daemons.liveHeap(pid);
        int threadsAfter = Daemons.threadCount(pid);
        long perTask = (after - before) / TASKS;
        System.out.printf("daemon live heap: %d KiB with 1 task, %d KiB with %d: %d KiB per task; threads %d -> %d%n",
                before >> 10, after >> 10, TASKS + 1, perTask >> 10, threadsBefore, threadsAfter);
        // per running task: the VMM's waiter and its stderr pump
        assertTrue(threadsAfter - threadsBefore <= 2 * TASKS + 2, "threads grew from " + threadsBefore + " to " + threadsAfter);
        // Containerd.close() kills and deletes the tasks
        assertTrue(perTask < CEILING_PER_TASK, "a task costs " + perTask + " bytes of heap");
    }

    /**
     * Tasks coming and going on one long-lived daemon (what a node's daemon sees all day) leave no heap or threads
     * behind: after three rounds of eight tasks created, run, killed and deleted, the daemon holds what it held
     * after the first.
     */
    @Test
    void churnOfTasksLeavesTheDaemonsHeapAndThreadsFlat() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "soak-keep", "run").ok(); // keeps the daemon up
        long pid = Daemons.pidOf(containerd);
        long[] heap = new long[3];
        int[] threads = new int[3];
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 8; i++) containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "soak-" + i, "run").ok();
            for (int i = 0; i < 8; i++) containerd.ctr("task", "kill", "-s", "SIGKILL", "soak-" + i).ok();
            for (int i = 0; i < 8; i++) {
                String id = "soak-" + i;
                for (int tries = 0; tries < 100 && containerd.ctr("task", "delete", id).exit() != 0; tries++) Thread.sleep(50);
                containerd.ctr("container", "delete", id).ok();
            }
            assertEquals(pid, Daemons.pidOf(containerd), "the same daemon served every round");
            heap[round] = Daemons.liveHeap(pid);
            threads[round] = Daemons.threadCount(pid);
        }
        System.out.printf("daemon after churn rounds: live heap %d / %d / %d KiB, threads %d / %d / %d%n",
                heap[0] >> 10, heap[1] >> 10, heap[2] >> 10, threads[0], threads[1], threads[2]);
        assertTrue(heap[2] - heap[0] < 1 << 20, "heap grew by " + ((heap[2] - heap[0]) >> 10) + " KiB over two rounds");
        assertTrue(threads[2] <= threads[0] + 2, "threads grew from " + threads[0] + " to " + threads[2]);
    }
}
