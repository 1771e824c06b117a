package io.urunc.shim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Whether an idle daemon may go, decided under the lock {@code start} holds while it looks for a daemon and hands
 * out its address: a start either finds this daemon before it decided (and has marked it wanted, so it stays), or
 * finds its socket already closed (and starts another). Never the address of a daemon on its way out.
 */
final class IdleExit {
    private final DaemonAddress address;
    private final Duration idle;

    IdleExit(DaemonAddress address, Duration idle) {
        this.address = address;
        this.idle = idle;
    }

    /**
     * True if nobody asked for this daemon lately: {@code stopServing} has then run (its socket no longer accepts)
     * before any start can look again. False if a start wants it: it serves on, its pid file back in place.
     */
    boolean leaveUnlessWanted(Runnable stopServing) throws IOException {
        Files.createDirectories(address.lockFile().getParent());
        try (DaemonAddress.GroupLock ignored = address.lockGroup()) {
            // the shell launcher reads the pid file after touching the wanted file: remove first, then look
            Files.deleteIfExists(address.pidFile());
            if (wantedLately()) {
                Files.writeString(address.pidFile(), Long.toString(ProcessHandle.current().pid()));
                return false;
            }
            stopServing.run();
            return true;
        }
    }

    /**
     * A start's mark protects the time from its look to containerd's connection (which then keeps the daemon busy),
     * not a whole idle period: counted for the idle period, the mark of the last task's own start kept a daemon
     * whose last task lived under a second (a quick {@code ctr run --rm}) twice as long as {@code idle_exit_seconds}.
     */
    static final long WANTED_WINDOW_MILLIS = 10_000;

    private boolean wantedLately() throws IOException {
        Path wanted = address.wantedFile();
        long at = Files.exists(wanted) ? Files.getLastModifiedTime(wanted).toMillis() : 0;
        return System.currentTimeMillis() - at < Math.min(idle.toMillis(), WANTED_WINDOW_MILLIS) + 1000;
    }
}
