package io.urunc.shim.task;

import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.shim.bundle.Bundle;
import io.urunc.ttrpc.TtrpcException;

/**
 * Where containers without unikernel metadata go (Kubernetes pause containers, sidecars): an ordinary
 * container runtime such as runc.
 */
@FunctionalInterface
public interface DelegateTasks {
    /**
     * Creates the task; its rootfs is already mounted at the bundle's rootfs, and {@code cleanup} (which
     * unmounts it) must be run by the task's delete, or by the implementation if creation fails.
     */
    Task create(CreateTaskRequest request, Bundle bundle, Cleanup cleanup, TaskEvents events) throws TtrpcException;
}
