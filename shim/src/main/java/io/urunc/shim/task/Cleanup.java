package io.urunc.shim.task;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a task has set up, undone in reverse order. Used both when Create fails half-way and on Delete,
 * so that the two paths can never disagree about what to release. A failing step is logged and the
 * rest still run.
 */
public final class Cleanup implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Cleanup.class);

    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    private record Named(String what, Step step) {}

    private final Deque<Named> steps = new ArrayDeque<>();

    public synchronized void push(String what, Step step) {
        steps.push(new Named(what, step));
    }

    @Override
    public void close() {
        while (true) {
            Named n;
            synchronized (this) {
                n = steps.poll();
            }
            if (n == null) return;
            try {
                n.step().run();
            } catch (Exception e) {
                LOG.warn("cleanup: {} failed: {}", n.what(), e.getMessage());
            }
        }
    }
}
