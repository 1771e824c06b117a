package io.urunc.shim.task;

/**
 * Where one Create's time went, phase by phase, for the daemon's DEBUG log (what bench/run-start.sh's figures are
 * broken down with). Not thread-safe: one per Create, on the thread that runs it.
 */
final class PhaseClock {
    private final StringBuilder phases = new StringBuilder();
    private long last = System.nanoTime();

    /** Ends the phase that ran since the previous mark (or since this clock was made). */
    void mark(String phase) {
        long now = System.nanoTime();
        if (!phases.isEmpty()) phases.append(", ");
        long tenths = (now - last) / 100_000;
        phases.append(phase).append(' ').append(tenths / 10).append('.').append(tenths % 10).append(" ms");
        last = now;
    }

    @Override
    public String toString() {
        return phases.toString();
    }
}
