package io.urunc.shim;

import io.urunc.shim.task.ForeignLockHolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

class IdleExitTest {
    @TempDir
    Path state;

    private DaemonAddress daemon() throws Exception {
        return daemon("idle");
    }

    private DaemonAddress daemon(String namespace) throws Exception {
        DaemonAddress a = DaemonAddress.of("/run/c.sock", namespace, "", state);
        Files.createDirectories(a.pidFile().getParent());
        Files.writeString(a.pidFile(), Long.toString(ProcessHandle.current().pid()));
        return a;
    }

    /** The daemon as a start marked it wanted {@code millis} ago. */
    private static DaemonAddress wantedAgo(DaemonAddress a, long millis) throws Exception {
        Files.writeString(a.wantedFile(), "");
        Files.setLastModifiedTime(a.wantedFile(), FileTime.fromMillis(System.currentTimeMillis() - millis));
        return a;
    }

    @Test
    void anIdleDaemonDoesNotCloseWhileAStartIsLookingForIt() throws Exception {
        DaemonAddress a = daemon();
        AtomicBoolean stopped = new AtomicBoolean();
        CompletableFuture<Boolean> left = new CompletableFuture<>();
        try (ForeignLockHolder start = ForeignLockHolder.wholeFile(a.lockFile())) {
            Thread.ofPlatform().start(() -> {
                try {
                    left.complete(new IdleExit(a, Duration.ofMillis(100)).leaveUnlessWanted(() -> stopped.set(true)));
                } catch (Exception e) {
                    left.completeExceptionally(e);
                }
            });
            Thread.sleep(500);
            assertFalse(stopped.get(), "the socket a start may be handing out stays open");
            // that start wanted this daemon: it touched the wanted file before it took the lock
            StartCommand.touch(a.wantedFile());
        }
        assertFalse(left.get(5, TimeUnit.SECONDS), "the daemon stays for the start that found it");
        assertFalse(stopped.get());
        assertTrue(Files.exists(a.pidFile()), "and can be found again");
    }

    @Test
    void anUnwantedIdleDaemonClosesItsSocketBeforeAnyStartLooksAgain() throws Exception {
        DaemonAddress a = wantedAgo(daemon(), 60_000);
        AtomicBoolean stopped = new AtomicBoolean();
        assertTrue(new IdleExit(a, Duration.ofMillis(100)).leaveUnlessWanted(() -> stopped.set(true)));
        assertTrue(stopped.get());
        assertFalse(Files.exists(a.pidFile()));
    }

    @Test
    void theMarkOfTheLastTasksStartDoesNotDoubleALongIdlePeriod() throws Exception {
        // idle for 5 minutes after a task whose start marked the daemon wanted 5 minutes ago: it goes now
        DaemonAddress a = wantedAgo(daemon(), 300_000);
        AtomicBoolean stopped = new AtomicBoolean();
        assertTrue(new IdleExit(a, Duration.ofMinutes(5)).leaveUnlessWanted(() -> stopped.set(true)));
        assertTrue(stopped.get());
        // a start that looked a few seconds ago still keeps it
        DaemonAddress b = wantedAgo(daemon("idle2"), 3_000);
        assertFalse(new IdleExit(b, Duration.ofMinutes(5)).leaveUnlessWanted(() -> { throw new AssertionError("closed"); }));
    }
}
