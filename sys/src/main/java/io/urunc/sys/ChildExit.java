package io.urunc.sys;

/**
 * How a child process ended, as waitid(2) tells it: an exit with a code, or death by a signal. A shell, and the
 * JDK's {@code Process.exitValue()}, fold both into one number (128 + signal), so "exited 137" and "killed by
 * SIGKILL" look the same there; here they do not.
 */
public record ChildExit(boolean killed, int value) {
    /** siginfo_t.si_code values for a child that ended (waitid with WEXITED only). */
    static final int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

    public static ChildExit exited(int code) {
        return new ChildExit(false, code);
    }

    public static ChildExit killedBy(int signal) {
        return new ChildExit(true, signal);
    }

    /** From siginfo_t's si_code and si_status: the signal for CLD_KILLED/CLD_DUMPED, the exit code for CLD_EXITED. */
    public static ChildExit fromSiginfo(int siCode, int siStatus) {
        return switch (siCode) {
            case CLD_EXITED -> exited(siStatus);
            case CLD_KILLED, CLD_DUMPED -> killedBy(siStatus);
            default -> throw new IllegalArgumentException("si_code " + siCode + " is not the end of a child");
        };
    }

    /** From a wait status as waitpid(2) gives it (and PIDFD_INFO_EXIT): WIFEXITED/WEXITSTATUS, WIFSIGNALED/WTERMSIG. */
    public static ChildExit fromWaitStatus(int status) {
        int signal = status & 0x7f;
        if (signal == 0) return exited((status >> 8) & 0xff);
        if (signal == 0x7f) throw new IllegalArgumentException("wait status 0x" + Integer.toHexString(status) + " is a stop, not an end");
        return killedBy(signal);
    }

    /** The exit code, when the process exited. */
    public int code() {
        if (killed) throw new IllegalStateException("killed by signal " + value + ", no exit code");
        return value;
    }

    /** The signal, when it was killed. */
    public int signal() {
        if (!killed) throw new IllegalStateException("exited with " + value + ", not killed");
        return value;
    }

    /** What a shell's {@code $?} (and containerd for a container's process) makes of it: the code, or 128 + signal. */
    public int shellCode() {
        return killed ? 128 + value : value;
    }

    @Override
    public String toString() {
        return killed ? "killed by signal " + value : "exited with status " + value;
    }
}
