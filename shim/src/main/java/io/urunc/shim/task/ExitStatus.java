package io.urunc.shim.task;

import java.time.Instant;

/** How a task ended: the container exit code (128+signal when killed) and when. */
public record ExitStatus(int code, Instant at) {}
