package io.urunc.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few libc calls the runtime needs, bound with the FFM API (no JNI, no native library to ship).
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

    private static final long SYS_PIDFD_SEND_SIGNAL = 424, SYS_PIDFD_OPEN = 434, SYS_OPENAT2 = 437;
    private static final int P_PIDFD = 3, WEXITED = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final Downcall OPEN = new Downcall("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final Downcall OPENAT = new Downcall("openat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 3);
    private static final Downcall CLOSE = new Downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final Downcall IOCTL = new Downcall("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    private static final Downcall MOUNT = new Downcall("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), -1);
    private static final Downcall UMOUNT2 = new Downcall("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), -1);
    private static final Downcall SETNS = new Downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final Downcall UNSHARE = new Downcall("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    private static final Downcall PRCTL = new Downcall("prctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), 1);
    private static final Downcall KILL = new Downcall("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final Downcall DUP2 = new Downcall("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    private static final Downcall PIPE2 = new Downcall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), -1);
    private static final Downcall MKFIFO = new Downcall("mkfifo", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), -1);
    private static final Downcall SYSCALL4 = new Downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final Downcall WAITID = new Downcall("waitid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), -1);
    private static final Downcall GETPID = Downcall.plain("getpid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall GETUID = Downcall.plain("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final Downcall STRERROR = Downcall.plain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    private static final Downcall MADVISE = new Downcall("madvise", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);

    /** madvise(2): reclaim the range's pages now (Linux 5.4+); never changes what the memory holds. */
    public static final int MADV_PAGEOUT = 21;

    private Libc() {}

    /**
     * A downcall bound at its first call: binding one generates classes (together ~0.1-0.2 s of CPU for all of them,
     * which an AOT cache cannot hold), and the daemon needs four of them to start.
     */
    private static final class Downcall {
        private final String name;
        private final FunctionDescriptor descriptor;
        private final Linker.Option[] options;
        private volatile MethodHandle handle;

        /** With errno captured; {@code firstVariadic} is the index of the first variadic argument, or -1. */
        Downcall(String name, FunctionDescriptor descriptor, int firstVariadic) {
            this(name, descriptor, firstVariadic < 0
                    ? new Linker.Option[] {Linker.Option.captureCallState("errno")}
                    : new Linker.Option[] {Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(firstVariadic)});
        }

        private Downcall(String name, FunctionDescriptor descriptor, Linker.Option[] options) {
            this.name = name;
            this.descriptor = descriptor;
            this.options = options;
        }

        static Downcall plain(String name, FunctionDescriptor descriptor) {
            return new Downcall(name, descriptor, new Linker.Option[0]);
        }

        MethodHandle get() {
            MethodHandle h = handle;
            if (h == null) {
                synchronized (this) {
                    h = handle;
                    if (h == null) handle = h = LINKER.downcallHandle(LOOKUP.find(name).orElseThrow(), descriptor, options);
                }
            }
            return h;
        }
    }

    /** Binds now, on the calling thread, the downcalls a daemon makes to start (prctl, open, dup2, close). */
    public static void bindDaemonCalls() {
        for (Downcall d : new Downcall[] {PRCTL, OPEN, DUP2, CLOSE}) d.get();
    }

    /**
     * Binds now, on the calling thread, the downcalls a task's set-up makes before its VMM is spawned (mount, openat
     * and openat2, pidfd_open, pipe2), each at most once: a daemon does it beside its first Create.
     */
    public static void bindTaskSetUpCalls() {
        for (Downcall d : new Downcall[] {MOUNT, OPENAT, SYSCALL4, PIPE2}) d.get();
    }

    /** As {@link #bindTaskSetUpCalls}, for the calls of a task's end (waitid, ioctl, umount2, kill). */
    public static void bindTaskEndCalls() {
        for (Downcall d : new Downcall[] {WAITID, IOCTL, UMOUNT2, KILL}) d.get();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static MemorySegment str(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    public static int open(String path, int flags, int mode) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int fd = (int) OPEN.get().invokeExact(st, str(a, path), flags, mode);
            if (fd < 0) throw new SysException("open " + path, errno(st));
            return fd;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** openat(2) relative to {@code dirFd}; the message names {@code what} (the path as the caller knows it). */
    public static int openat(int dirFd, String path, int flags, int mode, String what) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int fd = (int) OPENAT.get().invokeExact(st, dirFd, str(a, path), flags, mode);
            if (fd < 0) throw new SysException("openat " + what, errno(st));
            return fd;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
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
            return (int) syscall("openat2 " + what, SYS_OPENAT2, dirFd, str(a, path).address(), how.address(), 24);
        }
    }

    public static void close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.get().invokeExact(a.allocate(CAPTURE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl with a pointer argument; returns the call's non-negative result. */
    public static int ioctl(int fd, long request, MemorySegment arg) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) IOCTL.get().invokeExact(st, fd, request, arg);
            if (r < 0) throw new SysException("ioctl 0x" + Long.toHexString(request), errno(st));
            return r;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mount(String source, String target, String fstype, long flags, String data)
            throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) MOUNT.get().invokeExact(st, str(a, source), str(a, target), str(a, fstype), flags, str(a, data));
            if (r < 0) throw new SysException("mount " + fstype + " " + source + " on " + target, errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void umount2(String target, int flags) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) UMOUNT2.get().invokeExact(st, str(a, target), flags);
            if (r < 0) throw new SysException("umount " + target, errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Moves the calling OS thread into the namespace behind {@code fd}. */
    public static void setns(int fd, int nstype) throws SysException {
        intCall(SETNS.get(), "setns", fd, nstype);
    }

    public static void unshare(int flags) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) UNSHARE.get().invokeExact(st, flags);
            if (r < 0) throw new SysException("unshare", errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void prctl(int option, long arg) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) PRCTL.get().invokeExact(st, option, arg);
            if (r < 0) throw new SysException("prctl " + option, errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void kill(int pid, int signal) throws SysException {
        intCall(KILL.get(), "kill " + pid, pid, signal);
    }

    public static void dup2(int oldFd, int newFd) throws SysException {
        intCall(DUP2.get(), "dup2", oldFd, newFd);
    }

    /** A pipe, both ends close-on-exec: {read end, write end}. */
    public static int[] pipe() throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            if ((int) PIPE2.get().invokeExact(st, fds, O_CLOEXEC) < 0) throw new SysException("pipe2", errno(st));
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mkfifo(String path, int mode) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) MKFIFO.get().invokeExact(st, str(a, path), mode);
            if (r < 0) throw new SysException("mkfifo " + path, errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A pidfd for {@code pid}: lets us wait for and signal a process we did not fork, without pid reuse races. */
    public static int pidfdOpen(int pid) throws SysException {
        return (int) syscall("pidfd_open " + pid, SYS_PIDFD_OPEN, pid, 0, 0, 0);
    }

    public static void pidfdSendSignal(int pidfd, int signal) throws SysException {
        syscall("pidfd_send_signal", SYS_PIDFD_SEND_SIGNAL, pidfd, signal, 0, 0);
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
            MemorySegment st = a.allocate(CAPTURE);
            MemorySegment info = a.allocate(128);
            while (true) {
                int r = (int) WAITID.get().invokeExact(st, P_PIDFD, pidfd, info, WEXITED);
                if (r == 0) break;
                int err = errno(st);
                if (err != Errno.EINTR) throw new SysException("waitid", err);
            }
            // x86_64/aarch64 siginfo_t: si_signo, si_errno, si_code, (pad), si_pid, si_uid, si_status
            return ChildExit.fromSiginfo(info.get(JAVA_INT, 8), info.get(JAVA_INT, 24));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
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
        try {
            return (int) GETPID.get().invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int geteuid() {
        try {
            return (int) GETUID.get().invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String strerror(int errno) {
        try {
            MemorySegment p = (MemorySegment) STRERROR.get().invokeExact(errno);
            return p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    private static void intCall(MethodHandle h, String what, int x, int y) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) h.invokeExact(st, x, y);
            if (r < 0) throw new SysException(what, errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long syscall(String what, long nr, long a1, long a2, long a3, long a4) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            long r = (long) SYSCALL4.get().invokeExact(st, nr, a1, a2, a3, a4);
            if (r < 0) throw new SysException(what, errno(st));
            return r;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** madvise(2) over [address, address + length), both page-aligned. */
    public static void madvise(long address, long length, int advice) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) MADVISE.get().invokeExact(st, address, length, advice);
            if (r < 0) throw new SysException("madvise " + advice, errno(st));
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Allocation helper for callers building structs (ifreq and the like). */
    public static MemorySegment zeroed(Arena arena, long size) {
        return arena.allocate(size, 8).fill((byte) 0);
    }

}
