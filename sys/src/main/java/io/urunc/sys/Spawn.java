package io.urunc.sys;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Starts a process with posix_spawn(3), outside the JDK's {@code Process}: the JDK reaps its own children on its
 * reaper thread and keeps only the folded exit value (128 + signal for a killed process, the same number as an exit
 * with that code). A spawned child is the caller's alone: nothing else in the daemon waits for it (the orphan reaper
 * takes only other sessions' zombies), so its pidfd, opened at once, can wait for it and read the true
 * {@link ChildExit}. The child gets stdin and stdout from paths, stderr on a pipe to the caller, no other descriptor,
 * default signal dispositions and an empty signal mask, whatever the JVM's threads have.
 */
public final class Spawn {
    /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on 64-bit: room for either. */
    private static final long OPAQUE = 512, SIGSET = 128;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    private static final MemorySegment FA_INIT = NativeCalls.function("posix_spawn_file_actions_init"),
            FA_DESTROY = NativeCalls.function("posix_spawn_file_actions_destroy"),
            FA_OPEN = NativeCalls.function("posix_spawn_file_actions_addopen"),
            FA_DUP2 = NativeCalls.function("posix_spawn_file_actions_adddup2"),
            FA_CLOSEFROM = NativeCalls.function("posix_spawn_file_actions_addclosefrom_np"),
            ATTR_INIT = NativeCalls.function("posix_spawnattr_init"),
            ATTR_DESTROY = NativeCalls.function("posix_spawnattr_destroy"),
            ATTR_FLAGS = NativeCalls.function("posix_spawnattr_setflags"),
            ATTR_SIGMASK = NativeCalls.function("posix_spawnattr_setsigmask"),
            ATTR_SIGDEFAULT = NativeCalls.function("posix_spawnattr_setsigdefault"),
            SIGEMPTYSET = NativeCalls.function("sigemptyset"),
            SIGFILLSET = NativeCalls.function("sigfillset"),
            SPAWNP = NativeCalls.function("posix_spawnp");

    /** A started child: its pid, a pidfd on it (the caller waits on it and closes it), and its stderr. */
    public record Child(int pid, int pidfd, InputStream stderr) {}

    private Spawn() {}

    /**
     * Runs {@code argv} (argv[0] looked up on the daemon's PATH, as the JDK does) with exactly {@code env}; stdin
     * read from {@code stdinPath}, stdout appended to {@code stdoutPath}. Both are opened in the child, so a path
     * such as /proc/self/fd/N names the caller's descriptor N.
     */
    public static Child spawn(List<String> argv, Map<String, String> env, String stdinPath, String stdoutPath)
            throws SysException {
        if (argv.isEmpty()) throw new IllegalArgumentException("empty command line");
        try (Arena a = Arena.ofConfined()) {
            int[] pipe = Libc.pipe();
            int readEnd = pipe[0], writeEnd = pipe[1];
            int pid;
            try {
                pid = start(a, argv, env, stdinPath, stdoutPath, writeEnd);
            } catch (SysException | RuntimeException e) {
                Libc.close(readEnd);
                throw e;
            } finally {
                Libc.close(writeEnd);
            }
            int pidfd;
            try {
                // nobody else reaps this child, so its pid cannot have been reused yet
                pidfd = Libc.pidfdOpen(pid);
            } catch (SysException e) {
                Libc.close(readEnd);
                Libc.kill(pid, Libc.SIGKILL);
                throw e;
            }
            InputStream stderr;
            try {
                stderr = new FileInputStream("/proc/self/fd/" + readEnd);
            } catch (IOException e) {
                throw new SysException("open stderr pipe", Errno.EIO);
            } finally {
                Libc.close(readEnd);
            }
            return new Child(pid, pidfd, stderr);
        } catch (SysException e) {
            throw e;
        } catch (Throwable t) {
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            throw new IllegalStateException(t);
        }
    }

    private static int start(Arena a, List<String> argv, Map<String, String> env, String stdinPath, String stdoutPath,
                             int stderrFd) throws SysException {
        MemorySegment fa = a.allocate(OPAQUE, 16);
        MemorySegment attr = a.allocate(OPAQUE, 16);
        check("posix_spawn_file_actions_init", call(FA_INIT, fa.address()));
        try {
            check("posix_spawnattr_init", call(ATTR_INIT, attr.address()));
            try {
                check("addopen stdin", call(FA_OPEN, fa.address(), 0, a.allocateFrom(stdinPath).address(), Libc.O_RDONLY, 0));
                check("addopen stdout", call(FA_OPEN, fa.address(), 1, a.allocateFrom(stdoutPath).address(),
                        Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT, 0600));
                check("adddup2 stderr", call(FA_DUP2, fa.address(), stderrFd, 2));
                check("addclosefrom", call(FA_CLOSEFROM, fa.address(), 3));
                MemorySegment empty = a.allocate(SIGSET, 8), all = a.allocate(SIGSET, 8);
                check("sigemptyset", call(SIGEMPTYSET, empty.address()) == 0 ? 0 : Errno.EINVAL);
                check("sigfillset", call(SIGFILLSET, all.address()) == 0 ? 0 : Errno.EINVAL);
                check("posix_spawnattr_setsigmask", call(ATTR_SIGMASK, attr.address(), empty.address()));
                check("posix_spawnattr_setsigdefault", call(ATTR_SIGDEFAULT, attr.address(), all.address()));
                check("posix_spawnattr_setflags", call(ATTR_FLAGS, attr.address(), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
                MemorySegment pid = a.allocate(JAVA_INT);
                int r = call(SPAWNP, pid.address(), a.allocateFrom(argv.getFirst()).address(), fa.address(), attr.address(),
                        strings(a, argv).address(),
                        strings(a, env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()).address());
                if (r != 0) throw new SysException("execute " + argv.getFirst(), r);
                return pid.get(JAVA_INT, 0);
            } finally {
                call(ATTR_DESTROY, attr.address());
            }
        } finally {
            call(FA_DESTROY, fa.address());
        }
    }

    /** posix_spawn's functions return an int: the low half of the call's result. */
    private static int call(MemorySegment fn, long... args) {
        long[] a = java.util.Arrays.copyOf(args, 6);
        return (int) NativeCalls.call(fn, a[0], a[1], a[2], a[3], a[4], a[5]);
    }

    /** A NULL-terminated char*[] of {@code items}. */
    private static MemorySegment strings(Arena a, List<String> items) {
        MemorySegment array = a.allocate(ADDRESS, items.size() + 1);
        for (int i = 0; i < items.size(); i++) array.setAtIndex(ADDRESS, i, a.allocateFrom(items.get(i)));
        array.setAtIndex(ADDRESS, items.size(), MemorySegment.NULL);
        return array;
    }

    /** posix_spawn's helpers return the error number itself. */
    private static void check(String what, int error) throws SysException {
        if (error != 0) throw new SysException(what, error);
    }
}
