package io.urunc.shim.runc;

import io.urunc.sys.Errno;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.util.concurrent.CompletableFuture;

/**
 * The container's init, left to us (the subreaper) when {@code runc create} exits. Held through a pidfd
 * opened as soon as its pid is known, and reaped by waiting on that pidfd on a dedicated platform thread:
 * never a wait on "any child", which would steal the JDK's own children.
 */
final class InitProcess {
    private final int pid;
    private final int pidfd;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    /** Guards the pidfd number: once closed it may name another file. */
    private boolean closed;

    private InitProcess(int pid, int pidfd) {
        this.pid = pid;
        this.pidfd = pidfd;
    }

    /** Opens the pidfd (works for a zombie too) and starts the waiter; the future gets code or 128+signal. */
    static InitProcess watch(int pid, String name) throws SysException {
        InitProcess p = new InitProcess(pid, Libc.pidfdOpen(pid));
        Thread.ofPlatform().daemon().name("init-wait-" + name).start(p::await);
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
