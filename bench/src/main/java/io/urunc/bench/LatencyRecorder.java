package io.urunc.bench;

import java.util.Arrays;

/** Per-call latencies of one run, kept in a growable array of nanoseconds. */
final class LatencyRecorder {
    private long[] nanos = new long[1 << 16];
    private int count;

    synchronized void record(long latencyNanos) {
        if (count == nanos.length) {
            nanos = Arrays.copyOf(nanos, count * 2);
        }
        nanos[count++] = latencyNanos;
    }

    synchronized void merge(LatencyRecorder other) {
        for (int i = 0; i < other.count; i++) {
            record(other.nanos[i]);
        }
    }

    synchronized Result result(long elapsedNanos) {
        long[] sorted = Arrays.copyOf(nanos, count);
        Arrays.sort(sorted);
        return new Result(count, count * 1e9 / elapsedNanos, percentile(sorted, 0.50), percentile(sorted, 0.99));
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1000.0;
    }

    /** @param p50Micros median round trip, @param p99Micros 99th percentile, in microseconds */
    record Result(int calls, double callsPerSecond, double p50Micros, double p99Micros) {
    }
}
