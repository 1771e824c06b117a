package io.urunc.shim.vm;

import io.urunc.shim.runc.ProcStat;
import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One process for ever: its pid, its start time (clock ticks after boot) and the boot. After a daemon crash the
 * pid in a task record may belong to anyone; only a process with the same three is the VMM the shim started.
 */
public record ProcessIdentity(long pid, long startTime, String bootId) {
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

    /** The process that has {@code pid} now, if there is one. */
    public static Optional<ProcessIdentity> of(long pid) {
        if (pid <= 0) return Optional.empty();
        return ProcStat.read(pid).map(st -> new ProcessIdentity(pid, st.startTime(), currentBoot()));
    }

    public static String currentBoot() {
        try {
            return Files.readString(BOOT_ID).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** Whether this very process still exists (a zombie counts until it is reaped). */
    public boolean alive() {
        return of(pid).filter(this::equals).isPresent();
    }

    /**
     * Sends {@code signal} to this process and no other: through a pidfd opened first and checked to be this
     * process, so that a pid reused in between is never hit. False if the process is gone.
     */
    public boolean signal(int signal) throws SysException {
        int fd;
        try {
            fd = Libc.pidfdOpen((int) pid);
        } catch (SysException e) {
            if (e.errno() == Errno.ESRCH) return false;
            throw e;
        }
        try {
            if (!alive()) return false;
            Libc.pidfdSendSignal(fd, signal);
            return true;
        } catch (SysException e) {
            if (e.errno() == Errno.ESRCH) return false;
            throw e;
        } finally {
            Libc.close(fd);
        }
    }
}
