package io.urunc.it.support;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** A task's status as {@code ctr task ls} shows it (CREATED, RUNNING, PAUSED, STOPPED), or ABSENT. */
public final class TaskStatus {
    private TaskStatus() {}

    public static String of(Containerd containerd, String id) {
        Exec.Result r = containerd.ctr("task", "ls");
        return r.stdout().lines().map(l -> l.trim().split("\\s+")).filter(f -> f[0].equals(id))
                .map(f -> f[f.length - 1]).findFirst().orElse("ABSENT");
    }

    /** Waits up to a minute for {@code expected}; fails with {@code diagnostics} otherwise. */
    public static void await(Containerd containerd, String id, String expected, Supplier<String> diagnostics) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!of(containerd, id).equals(expected)) {
            if (System.nanoTime() > deadline) fail(id + " never became " + expected + ": " + of(containerd, id) + diagnostics.get());
            Thread.sleep(100);
        }
    }
}
