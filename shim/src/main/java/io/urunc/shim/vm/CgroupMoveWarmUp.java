package io.urunc.shim.vm;

import io.urunc.sys.Libc;
import io.urunc.sys.Spawn;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * Starts the kernel's wait for a cgroup move before the VMM's own move needs it. Moving a process into a cgroup
 * (v1 or v2) takes the kernel's cgroup_threadgroup_rwsem for writing, and that waits for a whole RCU grace period
 * unless another move is under way or has just ended: ~14 ms on a 250 Hz kernel, paid in front of the VMM's exec,
 * since the VMM joins its cgroup before it runs ({@link VmProcess#CGROUP_JOIN}). A throwaway process that moves
 * itself into the cgroup it is already in (the daemon's: nothing changes) starts that wait as Create begins; the
 * VMM's move, milliseconds later, then shares that grace period instead of waiting for one of its own. While a
 * move waits, the kernel holds back every fork and every cgroup mkdir (they take the same lock), so this starts only
 * where Create forks nothing for a while: at its beginning, with the cgroup made just before the VMM's spawn.
 */
public final class CgroupMoveWarmUp {
    private static final System.Logger LOG = System.getLogger(CgroupMoveWarmUp.class.getName());
    private static final String SCRIPT = "echo $$ > \"$1\"";
    /** One at a time: while one waits, the grace period that a second would start is already under way. */
    private static final AtomicBoolean RUNNING = new AtomicBoolean();
    private static volatile Optional<Path> ownProcsFile;

    private CgroupMoveWarmUp() {}

    /** Starts the wait in the background, unless one is under way or the daemon's own cgroup is not found. */
    public static void start() {
        Optional<Path> procs = ownProcsFile();
        if (procs.isEmpty() || !RUNNING.compareAndSet(false, true)) return;
        try {
            Thread.ofPlatform().daemon().stackSize(128 * 1024).name("cgroup-move-warm-up").start(() -> {
                try {
                    run(procs.get());
                } finally {
                    RUNNING.set(false);
                }
            });
        } catch (OutOfMemoryError noThread) {
            RUNNING.set(false);
        }
    }

    /** The throwaway process, waited for so that it leaves no zombie. */
    private static void run(Path procs) {
        Spawn.Child child;
        try {
            child = Spawn.spawn(List.of("/bin/sh", "-c", SCRIPT, "cgroup-move-warm-up", procs.toString()),
                    Map.of("PATH", "/usr/bin:/bin"), "/dev/null", "/dev/null");
        } catch (SysException e) {
            LOG.log(Level.DEBUG, "cgroup move warm-up not started: {0}", e.getMessage());
            return;
        }
        try {
            child.stderr().close();
        } catch (IOException ignored) {
            // nothing to read from it
        }
        try {
            Libc.waitPidfdExit(child.pidfd());
        } catch (SysException e) {
            LOG.log(Level.DEBUG, "cgroup move warm-up {0}: {1}", child.pid(), e.getMessage());
        } finally {
            Libc.close(child.pidfd());
        }
    }

    private static Optional<Path> ownProcsFile() {
        Optional<Path> p = ownProcsFile;
        if (p == null) {
            try {
                p = procsFileOf(Files.readString(Path.of("/proc/self/cgroup")), Cgroup.unifiedHierarchy(), Cgroup.ROOT, Files::isRegularFile);
            } catch (IOException e) {
                p = Optional.empty();
            }
            ownProcsFile = p;
        }
        return p;
    }

    /**
     * The cgroup.procs file of the cgroup a process is in, from its /proc/PID/cgroup: on a unified hierarchy the
     * "0::" line's, else the first hierarchy of named controllers mounted under {@code root} by their names.
     */
    static Optional<Path> procsFileOf(String procCgroup, boolean unified, Path root, Predicate<Path> exists) {
        for (String line : procCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length != 3 || !f[2].startsWith("/") || f[2].contains("..")) continue;
            boolean v2Line = f[0].equals("0") && f[1].isEmpty();
            if (unified != v2Line || (!unified && (f[1].isEmpty() || f[1].startsWith("name=")))) continue;
            Path base = unified ? root : root.resolve(f[1]);
            Path procs = base.resolve(f[2].substring(1)).resolve("cgroup.procs");
            if (procs.normalize().startsWith(base) && exists.test(procs)) return Optional.of(procs);
        }
        return Optional.empty();
    }
}
