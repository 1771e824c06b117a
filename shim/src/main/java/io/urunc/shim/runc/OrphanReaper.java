package io.urunc.shim.runc;

import io.urunc.sys.Libc;
import io.urunc.sys.SysException;
import java.lang.System.Logger.Level;

import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Reaps processes of runc containers that were reparented to the daemon (the subreaper) and died: e.g.
 * the children of a container without its own pid namespace whose init exited, or a double-forked
 * daemon. No wait on "any child" is ever made (the JDK reaps its own children by pid, a VMM's waiter its
 * VMM by pidfd): the reaper looks at the daemon's zombie children and takes only those in <em>another
 * session</em> than the daemon. runc puts every container init into a new session (setsid), while everything
 * the daemon starts (runc, ip and tc through the JDK, VMMs through {@code sys.Spawn}) stays in its session.
 * Container inits and exec processes (each in a session of its own too) are waited on by their own
 * {@link ContainerProcess} and are skipped here.
 */
final class OrphanReaper {
    private static final System.Logger LOG = System.getLogger(OrphanReaper.class.getName());
    private static final long PERIOD_MS = 2000;

    /** Readers: creates between {@code runc create} and the init's pidfd. Writer: a sweep. */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final Set<Integer> inits = ConcurrentHashMap.newKeySet();
    private final int selfPid = (int) ProcessHandle.current().pid();
    private volatile ScheduledExecutorService timer;

    /**
     * Runs a create under the claim lock: no sweep runs until the init it returns is claimed, so an init
     * that dies at once is reaped by its own waiter, with its exit status.
     */
    <T> T claiming(Callable<T> create) throws Exception {
        lock.readLock().lock();
        try {
            return create.call();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** An init with its own waiter; call from inside {@link #claiming}. Sweeps start with the first one. */
    void claim(int pid) {
        inits.add(pid);
        startTimer();
    }

    void release(int pid) {
        inits.remove(pid);
    }

    /** Reaps every orphan zombie now; returns how many. */
    int sweep() {
        int self = ProcStat.read(selfPid).map(ProcStat::session).orElse(-1);
        if (self < 0) return 0;
        int reaped = 0;
        lock.writeLock().lock();
        try {
            for (ProcessHandle child : ProcessHandle.current().children().toList()) {
                ProcStat st = ProcStat.read(child.pid()).orElse(null);
                if (st == null || !st.zombie() || st.ppid() != selfPid || st.session() == self
                        || inits.contains(st.pid())) {
                    continue;
                }
                if (reap(st.pid())) reaped++;
            }
        } finally {
            lock.writeLock().unlock();
        }
        return reaped;
    }

    private static boolean reap(int pid) {
        int fd;
        try {
            fd = Libc.pidfdOpen(pid);
        } catch (SysException e) {
            return false;
        }
        try {
            int code = Libc.waitPidfd(fd);
            LOG.log(Level.DEBUG, "reaped orphan {0} (exit {1})", pid, code);
            return true;
        } catch (SysException e) {
            return false;
        } finally {
            Libc.close(fd);
        }
    }

    private void startTimer() {
        if (timer != null) return;
        synchronized (this) {
            if (timer != null) return;
            timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("orphan-reaper").factory());
            timer.scheduleWithFixedDelay(() -> {
                try {
                    sweep();
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "orphan sweep: {0}", e.toString());
                }
            }, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
        }
    }
}
