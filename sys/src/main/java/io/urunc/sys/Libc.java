package io.urunc.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few system calls the runtime needs, made with the FFM API (no JNI, no native library to ship) through libc's
 * syscall(3) ({@link NativeCalls}).
 * Every call throws {@link SysException} naming the call and errno on failure.
 * Namespace calls ({@link #setns}, {@link #unshare}) act on the calling OS thread and leak into every thread it
 * creates: the daemon never makes them ({@link HostNamespaces}); tests use them on throwaway platform threads.
 */
public final class Libc {
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0100, O_NOCTTY = 0400,
            O_NONBLOCK = 04000, O_APPEND = 02000, O_DIRECTORY = 0200000, O_CLOEXEC = 02000000, O_PATH = 010000000;
    public static final int CLONE_NEWNS = 0x00020000, CLONE_NEWUTS = 0x04000000, CLONE_NEWIPC = 0x08000000,
            CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;
    public static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32,
            MS_BIND = 4096, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19;
    public static final int MNT_DETACH = 2;
    public static final int AT_FDCWD = -100, O_NOFOLLOW = 0400000;
    /** openat2(2) resolve flags. */
    public static final long RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04,
            RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
    public static final int PR_SET_CHILD_SUBREAPER = 36, PR_SET_PDEATHSIG = 1;
    public static final int SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;

    private static final NativeCalls.Numbers NR = NativeCalls.NR;
    private static final int P_PIDFD = 3, WEXITED = 4, S_IFIFO = 0010000;
    private static final MemorySegment STRERROR = NativeCalls.function("strerror");

    /** madvise(2): reclaim the range's pages now (Linux 5.4+); never changes what the memory holds. */
    public static final int MADV_PAGEOUT = 21;

    private Libc() {}

    /**
     * Binds now, on the calling thread, the downcalls every call here goes through (two: {@link NativeCalls}), which
     * would otherwise be bound at the first call: a daemon does it beside its start.
     */
    public static void bind() {
        NativeCalls.bind();
    }

    private static MemorySegment str(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }

    private static long sys(String what, long nr, long a1, long a2, long a3, long a4) throws SysException {
        return NativeCalls.syscall(what, nr, a1, a2, a3, a4);
    }

    public static int open(String path, int flags, int mode) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            return (int) sys("open " + path, NR.openat(), AT_FDCWD, str(a, path).address(), flags, mode);
        }
    }

    /** openat(2) relative to {@code dirFd}; the message names {@code what} (the path as the caller knows it). */
    public static int openat(int dirFd, String path, int flags, int mode, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            return (int) sys("openat " + what, NR.openat(), dirFd, str(a, path).address(), flags, mode);
        }
    }

    /**
     * openat2(2): opens {@code path} relative to {@code dirFd} under the {@code RESOLVE_*} rules in {@code resolve}
     * (Linux 5.6+; ENOSYS before).
     */
    public static int openat2(int dirFd, String path, int flags, long resolve, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment how = zeroed(a, 24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
            how.set(JAVA_LONG, 0, flags);
            how.set(JAVA_LONG, 16, resolve);
            return (int) sys("openat2 " + what, NativeCalls.Numbers.OPENAT2, dirFd, str(a, path).address(), how.address(), 24);
        }
    }

    public static void close(int fd) {
        try {
            sys("close", NR.close(), fd, 0, 0, 0);
        } catch (SysException e) {
            // close(2) releases the descriptor even when it reports an error: nothing to retry
        }
    }

    /** ioctl with a pointer argument; returns the call's non-negative result. */
    public static int ioctl(int fd, long request, MemorySegment arg) throws SysException {
        return (int) sys("ioctl 0x" + Long.toHexString(request), NR.ioctl(), fd, request, arg.address(), 0);
    }

    public static void mount(String source, String target, String fstype, long flags, String data)
            throws SysException {
        try (Arena a = Arena.ofConfined()) {
            NativeCalls.syscall("mount " + fstype + " " + source + " on " + target, NR.mount(), str(a, source).address(),
                    str(a, target).address(), str(a, fstype).address(), flags, str(a, data).address(), 0);
        }
    }

    public static void umount2(String target, int flags) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            sys("umount " + target, NR.umount2(), str(a, target).address(), flags, 0, 0);
        }
    }

    /** Moves the calling OS thread into the namespace behind {@code fd}. */
    public static void setns(int fd, int nstype) throws SysException {
        sys("setns", NR.setns(), fd, nstype, 0, 0);
    }

    public static void unshare(int flags) throws SysException {
        sys("unshare", NR.unshare(), flags, 0, 0, 0);
    }

    public static void prctl(int option, long arg) throws SysException {
        sys("prctl " + option, NR.prctl(), option, arg, 0, 0);
    }

    public static void kill(int pid, int signal) throws SysException {
        sys("kill " + pid, NR.kill(), pid, signal, 0, 0);
    }

    public static void dup2(int oldFd, int newFd) throws SysException {
        if (NR.dup2() >= 0) {
            sys("dup2", NR.dup2(), oldFd, newFd, 0, 0);
        } else if (oldFd == newFd) {
            sys("dup2", NR.fcntl(), oldFd, 1 /* F_GETFD: dup2 of a valid descriptor onto itself does nothing */, 0, 0);
        } else {
            sys("dup2", NR.dup3(), oldFd, newFd, 0, 0);
        }
    }

    /** fcntl(2) with an integer argument; returns the call's non-negative result. */
    public static int fcntl(int fd, int cmd, int arg) throws SysException {
        return (int) sys("fcntl", NR.fcntl(), fd, cmd, arg, 0);
    }

    /** A pipe, both ends close-on-exec: {read end, write end}. */
    public static int[] pipe() throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            sys("pipe2", NR.pipe2(), fds.address(), O_CLOEXEC, 0, 0);
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    public static void mkfifo(String path, int mode) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            sys("mkfifo " + path, NR.mknodat(), AT_FDCWD, str(a, path).address(), S_IFIFO | mode, 0);
        }
    }

    /** A pidfd for {@code pid}: lets us wait for and signal a process we did not fork, without pid reuse races. */
    public static int pidfdOpen(int pid) throws SysException {
        return (int) sys("pidfd_open " + pid, NativeCalls.Numbers.PIDFD_OPEN, pid, 0, 0, 0);
    }

    public static void pidfdSendSignal(int pidfd, int signal) throws SysException {
        sys("pidfd_send_signal", NativeCalls.Numbers.PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0);
    }

    /**
     * Blocks until the process behind {@code pidfd} exits and reaps it (it must be our child, or an orphan
     * reparented to us as subreaper). Returns the exit code, or 128+signal for a killed process.
     */
    public static int waitPidfd(int pidfd) throws SysException {
        return waitPidfdExit(pidfd).shellCode();
    }

    /** As {@link #waitPidfd}, telling an exit from death by a signal (siginfo's si_code). */
    public static ChildExit waitPidfdExit(int pidfd) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = a.allocate(128);
            while (true) {
                try {
                    sys("waitid", NR.waitid(), P_PIDFD, pidfd, info.address(), WEXITED);
                    break;
                } catch (SysException e) {
                    if (e.errno() != Errno.EINTR) throw e;
                }
            }
            // x86_64/aarch64 siginfo_t: si_signo, si_errno, si_code, (pad), si_pid, si_uid, si_status
            return ChildExit.fromSiginfo(info.get(JAVA_INT, 8), info.get(JAVA_INT, 24));
        }
    }

    /** PIDFD_GET_INFO = _IOWR(0xFF, 11, struct pidfd_info), the 72-byte struct of Linux 6.15. */
    private static final long PIDFD_GET_INFO = 0xC048FF0BL;
    private static final long PIDFD_INFO_EXIT = 1 << 3;
    private static final long PIDFD_INFO_EXIT_CODE_OFFSET = 60;

    /**
     * How the process behind {@code pidfd} ended, read from the pidfd itself (PIDFD_GET_INFO with PIDFD_INFO_EXIT,
     * Linux 6.15+): works for a process that is not our child and was reaped by its own parent. Empty while it
     * has not been reaped, and on older kernels.
     */
    public static java.util.Optional<ChildExit> pidfdExitInfo(int pidfd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment info = zeroed(a, 72);
            info.set(JAVA_LONG, 0, PIDFD_INFO_EXIT);
            try {
                ioctl(pidfd, PIDFD_GET_INFO, info);
            } catch (SysException e) {
                return java.util.Optional.empty(); // ENOTTY/EINVAL: older kernel; ESRCH: not reaped yet
            }
            if ((info.get(JAVA_LONG, 0) & PIDFD_INFO_EXIT) == 0) return java.util.Optional.empty();
            return java.util.Optional.of(ChildExit.fromWaitStatus(info.get(JAVA_INT, PIDFD_INFO_EXIT_CODE_OFFSET)));
        }
    }

    public static int getpid() {
        return (int) unfailing("getpid", NR.getpid(), 0);
    }

    public static int geteuid() {
        return (int) unfailing("geteuid", NR.geteuid(), 0);
    }

    /** umask(2): sets the whole process's file mode creation mask and returns the previous one. */
    static int umask(int mask) {
        return (int) unfailing("umask", NR.umask(), mask);
    }

    /** A call that cannot fail (getpid, geteuid, umask), with its one argument (0 where it takes none). */
    private static long unfailing(String what, long nr, long a1) {
        try {
            return sys(what, nr, a1, 0, 0, 0);
        } catch (SysException e) {
            throw new IllegalStateException(e);
        }
    }

    static String strerror(int errno) {
        try {
            long p = NativeCalls.call(STRERROR, errno, 0, 0, 0, 0, 0);
            return MemorySegment.ofAddress(p).reinterpret(256).getString(0);
        } catch (RuntimeException | Error e) {
            return "errno " + errno;
        }
    }

    /** madvise(2) over [address, address + length), both page-aligned. */
    public static void madvise(long address, long length, int advice) throws SysException {
        sys("madvise " + advice, NR.madvise(), address, length, advice, 0);
    }

    /** Allocation helper for callers building structs (ifreq and the like). */
    public static MemorySegment zeroed(Arena arena, long size) {
        return arena.allocate(size, 8).fill((byte) 0);
    }

}
