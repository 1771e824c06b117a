package io.urunc.shim.task;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

class TaskLocksTest {
    @TempDir
    Path state;

    @Test
    void aTaskLockedByAnotherProcessWaitsThenFailsNamingTheTask() throws Exception {
        TaskLocks locks = new TaskLocks(state);
        try (ForeignLockHolder other = new ForeignLockHolder(state, "default", "c1")) {
            IOException e = assertThrows(IOException.class, () -> locks.acquire("default", "c1", Duration.ofMillis(300)));
            assertEquals("task default/c1 is busy: a create or delete of it has held its lock for more than 0 s",
                    e.getMessage());
            locks.acquire("default", "c2", Duration.ofMillis(300)).close();
        }
        locks.acquire("default", "c1", Duration.ofMillis(300)).close();
    }

    @Test
    void releasingOneTaskLockKeepsTheOthersOfTheProcess() throws Exception {
        TaskLocks locks = new TaskLocks(state);
        try (TaskLocks.Held a = locks.acquire("default", "a", Duration.ofMillis(300))) {
            locks.acquire("default", "b", Duration.ofMillis(300)).close();
            assertFalse(otherProcessCanLock("a"), "a is still held after b came and went");
        }
        assertTrue(otherProcessCanLock("a"));
    }

    private boolean otherProcessCanLock(String id) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", """
                import fcntl, os, sys
                fcntl.lockf(os.open(sys.argv[1], os.O_WRONLY), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(sys.argv[2]))
                """, state.resolve("locks/default").toString(), Long.toString(TaskLocks.slot(id))).start();
        return p.waitFor() == 0;
    }
}
