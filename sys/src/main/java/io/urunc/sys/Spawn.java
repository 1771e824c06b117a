package io.urunc.sys;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Starts a process with posix_spawn(3), outside the JDK's {@code Process}: the JDK reaps its own children on its
 * reaper thread and keeps only the folded exit value (128 + signal for a killed process, the same number as an exit
 * with that code). A spawned child is the caller's alone: nothing else in the daemon waits for it (the orphan reaper
 * takes only other sessions' zombies), so its pidfd, opened at once, can wait for it and read the true
 * {@link ChildExit}. The child gets stdin and stdout from paths, stderr on a pipe to the caller, no other descriptor,
 * default signal dispositions and an empty signal mask, whatever the JVM's threads have.
 */
public final class Spawn {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336 on 64-bit: room for either. */
    private static final long OPAQUE = 512, SIGSET = 128;
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    private static final MethodHandle FA_INIT = bind("posix_spawn_file_actions_init", JAVA_INT, ADDRESS);
    private static final MethodHandle FA_DESTROY = bind("posix_spawn_file_actions_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle FA_OPEN = bind("posix_spawn_file_actions_addopen",
            JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FA_DUP2 = bind("posix_spawn_file_actions_adddup2", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle FA_CLOSEFROM = bind("posix_spawn_file_actions_addclosefrom_np", JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle ATTR_INIT = bind("posix_spawnattr_init", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_DESTROY = bind("posix_spawnattr_destroy", JAVA_INT, ADDRESS);
    private static final MethodHandle ATTR_FLAGS = bind("posix_spawnattr_setflags", JAVA_INT, ADDRESS, JAVA_SHORT);
    private static final MethodHandle ATTR_SIGMASK = bind("posix_spawnattr_setsigmask", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle ATTR_SIGDEFAULT = bind("posix_spawnattr_setsigdefault", JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle SIGEMPTYSET = bind("sigemptyset", JAVA_INT, ADDRESS);
    private static final MethodHandle SIGFILLSET = bind("sigfillset", JAVA_INT, ADDRESS);
    private static final MethodHandle SPAWNP = bind("posix_spawnp", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);

    /** A started child: its pid, a pidfd on it (the caller waits on it and closes it), and its stderr. */
    public record Child(int pid, int pidfd, InputStream stderr) {}

    private Spawn() {}

    /** Binds the posix_spawn downcalls now (this class's initialisation), rather than at the first spawn. */
    public static void bind() {
        // the static initialisers did it
    }

    private static MethodHandle bind(String name, java.lang.foreign.MemoryLayout ret, java.lang.foreign.MemoryLayout... args) {
        return LINKER.downcallHandle(LOOKUP.find(name).orElseThrow(), FunctionDescriptor.of(ret, args));
    }

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
                             int stderrFd) throws Throwable {
        MemorySegment fa = a.allocate(OPAQUE, 16);
        MemorySegment attr = a.allocate(OPAQUE, 16);
        check("posix_spawn_file_actions_init", (int) FA_INIT.invokeExact(fa));
        try {
            check("posix_spawnattr_init", (int) ATTR_INIT.invokeExact(attr));
            try {
                check("addopen stdin", (int) FA_OPEN.invokeExact(fa, 0, a.allocateFrom(stdinPath), Libc.O_RDONLY, 0));
                check("addopen stdout", (int) FA_OPEN.invokeExact(fa, 1, a.allocateFrom(stdoutPath),
                        Libc.O_WRONLY | Libc.O_APPEND | Libc.O_CREAT, 0600));
                check("adddup2 stderr", (int) FA_DUP2.invokeExact(fa, stderrFd, 2));
                check("addclosefrom", (int) FA_CLOSEFROM.invokeExact(fa, 3));
                MemorySegment empty = a.allocate(SIGSET, 8), all = a.allocate(SIGSET, 8);
                check("sigemptyset", (int) SIGEMPTYSET.invokeExact(empty) == 0 ? 0 : Errno.EINVAL);
                check("sigfillset", (int) SIGFILLSET.invokeExact(all) == 0 ? 0 : Errno.EINVAL);
                check("posix_spawnattr_setsigmask", (int) ATTR_SIGMASK.invokeExact(attr, empty));
                check("posix_spawnattr_setsigdefault", (int) ATTR_SIGDEFAULT.invokeExact(attr, all));
                check("posix_spawnattr_setflags", (int) ATTR_FLAGS.invokeExact(attr,
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)));
                MemorySegment pid = a.allocate(JAVA_INT);
                int r = (int) SPAWNP.invokeExact(pid, a.allocateFrom(argv.getFirst()), fa, attr,
                        strings(a, argv), strings(a, env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
                if (r != 0) throw new SysException("execute " + argv.getFirst(), r);
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) ATTR_DESTROY.invokeExact(attr);
            }
        } finally {
            int ignored = (int) FA_DESTROY.invokeExact(fa);
        }
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
