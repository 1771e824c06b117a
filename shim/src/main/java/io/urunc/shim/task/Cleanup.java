package io.urunc.shim.task;

import java.lang.System.Logger.Level;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a task has set up, undone in reverse order. Used both when Create fails half-way and on Delete,
 * so that the two paths can never disagree about what to release. A failing step is logged and the
 * rest still run.
 */
public final class Cleanup implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Cleanup.class.getName());

    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    private record Named(String what, Step step) {}

    private final Deque<Named> steps = new ArrayDeque<>();

    public synchronized void push(String what, Step step) {
        steps.push(new Named(what, step));
    }

    /**
     * Runs every step. A Create whose caller gave up is interrupted: its cleanup still waits for the VMM to die
     * before the rootfs under it is unmounted, so the interrupt is set aside until the steps are done.
     */
    @Override
    public void close() {
        boolean interrupted = Thread.interrupted();
        try {
            runSteps();
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private void runSteps() {
        while (true) {
            Named n;
            synchronized (this) {
                n = steps.poll();
            }
            if (n == null) return;
            try {
                n.step().run();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "cleanup: {0} failed: {1}", n.what(), e.getMessage());
            }
        }
    }
}
