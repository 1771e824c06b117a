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
     * Creates the task; its rootfs is already mounted at the bundle's rootfs, {@code runDir} (a private,
     * short directory for sockets) exists, and {@code cleanup} (which unmounts and removes them) must be run
     * by the task's delete, or by the implementation if creation fails.
     */
    Task create(CreateTaskRequest request, Bundle bundle, java.nio.file.Path runDir, Cleanup cleanup, TaskEvents events)
            throws TtrpcException;
}
