package io.urunc.shim.task;

import io.urunc.sys.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.urunc.shim.task.ScriptedVmm.IGNORES_TERM;
import static io.urunc.shim.task.ScriptedVmm.STOPS_ON_TERM;
import static org.junit.jupiter.api.Assertions.*;

class UnikernelTaskTest {
    @TempDir
    Path dir;
    final List<String> topics = Collections.synchronizedList(new ArrayList<>());
    private final List<UnikernelTask> tasks = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (UnikernelTask t : tasks) {
            try {
                t.kill(Libc.SIGKILL, true);
            } catch (Exception ignored) {
                // already finished
            }
        }
    }

    UnikernelTask task(String script, boolean held, Duration grace) throws Exception {
        UnikernelTask t = ScriptedVmm.create("t1", dir, script, held, grace, (topic, event) -> topics.add(topic),
                new Cleanup());
        tasks.add(t);
        t.lifecycle().createPublished();
        return t;
    }

    static int exitCodeWithin(Task t, long seconds) throws Exception {
        return t.exitFuture().get(seconds, TimeUnit.SECONDS).code();
    }

    /** SIGTERM to a task in the given state; the exit code it reports. */
    private int exitAfterSigterm(String script, boolean held, boolean started, Duration grace) throws Exception {
        UnikernelTask t = task(script, held, grace);
        if (started) t.start();
        Thread.sleep(200);
        t.kill(Libc.SIGTERM, false);
        return exitCodeWithin(t, 5);
    }

    @Test
    void sigtermReachesTheVmmUnderItsPidNamespaceWrapper() throws Exception {
        assertEquals(128 + Libc.SIGTERM, exitAfterSigterm(STOPS_ON_TERM, false, true, Duration.ofSeconds(60)),
                "stopped by SIGTERM, long before the grace");
    }

    @Test
    void aVmmWithoutControlThatIgnoresSigtermIsKilledAfterTheGrace() throws Exception {
        assertEquals(128 + Libc.SIGKILL, exitAfterSigterm(IGNORES_TERM, false, true, Duration.ofMillis(500)));
    }

    @Test
    void aCreatedHeldVmmIsStoppedBySigtermAndKilledAfterTheGrace() throws Exception {
        assertEquals(128 + Libc.SIGKILL, exitAfterSigterm(IGNORES_TERM, true, false, Duration.ofMillis(500)));
    }

    @Test
    void aRunningGuestThatIgnoresPowerOffIsKilledAfterTheGrace() throws Exception {
        assertEquals(128 + Libc.SIGKILL, exitAfterSigterm(IGNORES_TERM, true, true, Duration.ofMillis(500)));
    }

    @Test
    void deletingACreatedTaskReports137AndItsExit() throws Exception {
        for (int i = 0; i < 5; i++) {
            topics.clear();
            UnikernelTask t = task(STOPS_ON_TERM, true, Duration.ofSeconds(10));
            ExitStatus deleted = t.delete();
            assertEquals(128 + Libc.SIGKILL, deleted.code(), "round " + i);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (!topics.contains("/tasks/exit") && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(List.of("/tasks/exit"), topics, "a created-then-deleted task gets its TaskExit");
        }
    }

    @Test
    void deletingACreatedTaskWhoseVmmStartsAtStartReports137AndItsExit() throws Exception {
        UnikernelTask t = task(STOPS_ON_TERM, false, Duration.ofSeconds(10));
        assertEquals(128 + Libc.SIGKILL, t.delete().code());
        assertEquals(List.of("/tasks/exit"), topics);
    }
}
