package io.urunc.shim.runc;

import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.util.concurrent.CompletableFuture;

/**
 * A process of a runc container left to us (the subreaper) when runc exits: the init after {@code runc create}, an
 * exec process after {@code runc exec --detach}. Held through a pidfd
 * opened as soon as its pid is known, and reaped by waiting on that pidfd on a dedicated platform thread:
 * never a wait on "any child", which would steal the JDK's own children.
 */
final class ContainerProcess {
    private final int pid;
    private final int pidfd;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    /** Guards the pidfd number: once closed it may name another file. */
    private boolean closed;

    private ContainerProcess(int pid, int pidfd) {
        this.pid = pid;
        this.pidfd = pidfd;
    }

    /** Opens the pidfd (works for a zombie too) and starts the waiter; the future gets code or 128+signal. */
    static ContainerProcess watch(int pid, String name) throws SysException {
        ContainerProcess p = new ContainerProcess(pid, Libc.pidfdOpen(pid));
        Thread.ofPlatform().daemon().name("process-wait-" + name).start(p::await);
        return p;
    }

    private void await() {
        int code;
        try {
            code = Libc.waitPidfd(pidfd);
        } catch (SysException e) {
            // ECHILD: reaped elsewhere, the status is lost; report what containerd reports for a lost process.
            code = 255;
        }
        synchronized (this) {
            closed = true;
            Libc.close(pidfd);
        }
        exit.complete(code);
    }

    int pid() {
        return pid;
    }

    CompletableFuture<Integer> exit() {
        return exit;
    }

    boolean alive() {
        return !exit.isDone();
    }

    /** Signals the init through its pidfd (no pid-reuse race); a finished process is not an error. */
    synchronized void signal(int signal) throws SysException {
        if (closed) return;
        try {
            Libc.pidfdSendSignal(pidfd, signal);
        } catch (SysException e) {
            if (e.errno() != Errno.ESRCH) throw e;
        }
    }
}
