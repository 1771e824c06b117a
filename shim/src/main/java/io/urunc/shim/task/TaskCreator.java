package io.urunc.shim.task;

import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.ttrpc.TtrpcException;

/** Turns a Create request into a created task, or fails having released everything it set up. */
@FunctionalInterface
public interface TaskCreator {
    Task create(CreateTaskRequest req, TaskEvents events) throws TtrpcException;
}
