package io.urunc.shim.task;

import com.google.protobuf.Timestamp;

import java.time.Instant;

/** protobuf Timestamps; containerd shows a zero (Go zero time) for a task that has not exited. */
public final class Timestamps {
    /** Go's time.Time{} as a protobuf Timestamp: what containerd expects for "not exited". */
    public static final Timestamp GO_ZERO = Timestamp.newBuilder().setSeconds(-62135596800L).build();

    private Timestamps() {}

    public static Timestamp of(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }
}
