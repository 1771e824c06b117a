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
            assertThrows(IOException.class, () -> new ForeignLockHolderProbe(state, "a").tryOnce());
        }
    }

    /** Whether another process can take a task's lock at once. */
    private record ForeignLockHolderProbe(Path state, String id) {
        void tryOnce() throws Exception {
            Process p = new ProcessBuilder("python3", "-c", """
                    import fcntl, hashlib, os, sys
                    f = os.open(sys.argv[1], os.O_WRONLY)
                    off = int.from_bytes(hashlib.sha256(sys.argv[2].encode()).digest()[:8], 'big') & 0x3fffffffffffffff
                    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, off)
                    """, state.resolve("locks/default").toString(), id).start();
            if (p.waitFor() != 0) throw new IOException("busy");
        }
    }
}
