package io.urunc.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The two shapes of downcall everything in this package goes through. Binding a downcall generates classes for its
 * shape (its argument and return types and options) that an AOT cache cannot hold: ~4 ms of CPU for each new shape
 * and ~40 ms for the first, paid by every daemon at start. The system calls all go through libc's
 * {@code long syscall(long number, ...)} (one shape, errno captured), and the few libc functions that are not system
 * calls (posix_spawn's, strerror) through one shape of six {@code long} arguments and a {@code long} result: on
 * x86-64 and AArch64 an {@code int}, {@code short} or pointer argument travels in a full register, a callee reads
 * only what its own type covers and ignores the registers beyond its parameters, and an {@code int} result is the
 * low half of the {@code long} read back. None of those functions is variadic. Both are bound at their first use.
 */
final class NativeCalls {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** System call numbers of this machine (x86-64 or AArch64; the other names of the generic table). */
    static final Numbers NR = Numbers.of(System.getProperty("os.arch", ""));

    private NativeCalls() {}

    /**
     * The numbers the package uses. AArch64 has no open, dup2, pipe or mknod: callers use openat, dup3, pipe2 and
     * mknodat there ({@code dup2} is -1 where the machine has none).
     */
    record Numbers(long openat, long close, long ioctl, long mount, long umount2, long setns, long unshare,
                   long prctl, long kill, long dup2, long dup3, long pipe2, long mknodat, long waitid, long getpid,
                   long geteuid, long madvise, long umask, long fcntl) {
        /** Shared by both tables (the numbers every architecture got from 5.1 on). */
        static final long PIDFD_SEND_SIGNAL = 424, PIDFD_OPEN = 434, OPENAT2 = 437;

        static Numbers of(String arch) {
            return switch (arch) {
                case "amd64", "x86_64" -> new Numbers(257, 3, 16, 165, 166, 308, 272, 157, 62, 33, 292, 293, 259,
                        247, 39, 107, 28, 95, 72);
                case "aarch64", "arm64" -> new Numbers(56, 57, 29, 40, 39, 268, 97, 167, 129, -1, 24, 59, 33, 95,
                        172, 175, 233, 166, 25);
                default -> throw new UnsupportedOperationException("system calls of architecture " + arch
                        + " are not known (x86-64 and AArch64 are)");
            };
        }
    }

    /**
     * System call {@code nr} with up to six arguments (pointers as their addresses); its result, never negative.
     * A failure throws {@link SysException} naming {@code what} and errno.
     */
    static long syscall(String what, long nr, long a1, long a2, long a3, long a4, long a5, long a6) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            long r = (long) Syscall.HANDLE.invokeExact(state, nr, a1, a2, a3, a4, a5, a6);
            if (r < 0) throw new SysException(what, (int) ERRNO.get(state, 0L));
            return r;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static long syscall(String what, long nr, long a1, long a2, long a3, long a4) throws SysException {
        return syscall(what, nr, a1, a2, a3, a4, 0, 0);
    }

    /** libc's function {@code fn} (not variadic, at most six integer or pointer arguments): its raw result. */
    static long call(MemorySegment fn, long a1, long a2, long a3, long a4, long a5, long a6) {
        try {
            return (long) Call.HANDLE.invokeExact(fn, a1, a2, a3, a4, a5, a6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The address of libc's {@code name}. */
    static MemorySegment function(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    /** Binds both shapes now, on the calling thread (the daemon's warm-up does, beside its start). */
    static void bind() {
        java.util.Objects.requireNonNull(Syscall.HANDLE);
        java.util.Objects.requireNonNull(Call.HANDLE);
    }

    /** {@code long syscall(long number, ...)}, errno captured: bound when this class is first used. */
    private static final class Syscall {
        static final MethodHandle HANDLE = LINKER.downcallHandle(function("syscall"),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    }

    /** Six {@code long}s to a {@code long}, the function's address first: bound when this class is first used. */
    private static final class Call {
        static final MethodHandle HANDLE = LINKER.downcallHandle(
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
