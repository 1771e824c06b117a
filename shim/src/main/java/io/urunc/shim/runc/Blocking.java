package io.urunc.shim.runc;

import io.urunc.sys.SysException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Clears O_NONBLOCK on a file descriptor (fcntl). runc is written in Go, whose runtime leaves the pty
 * master it sends us non-blocking; our copy threads want plain blocking reads.
 */
final class Blocking {
    private static final int F_GETFL = 3, F_SETFL = 4, O_NONBLOCK = 04000;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle FCNTL = LINKER.downcallHandle(LINKER.defaultLookup().find("fcntl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));

    private Blocking() {}

    static void set(int fd) throws SysException {
        int flags = fcntl(fd, F_GETFL, 0);
        if ((flags & O_NONBLOCK) != 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    }

    private static int fcntl(int fd, int cmd, int arg) throws SysException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CAPTURE);
            int r = (int) FCNTL.invokeExact(st, fd, cmd, arg);
            if (r < 0) throw new SysException("fcntl", (int) ERRNO.get(st, 0L));
            return r;
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
