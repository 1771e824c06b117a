package io.urunc.shim.task;

import io.urunc.shim.vm.ProcessIdentity;

/**
 * What must be undone for a task if the daemon is gone: persisted so that the shim binary's
 * {@code delete} can clean up after a crash. Paths are absolute; empty strings mean "none".
 * The VMM is named by pid, start time and boot ({@link ProcessIdentity}): a pid alone may be another's by then;
 * so are its {@code backends} (virtiofsd).
 */
public record TaskRecord(
        String id,
        String namespace,
        String bundle,
        long vmmPid,
        long vmmStartTime,
        String bootId,
        String rootfsMount,
        String runDir,
        String cgroupsPath,
        String netns,
        String tap,
        String ownNetns,
        java.util.List<ProcessIdentity> backends) {

    public TaskRecord {
        backends = backends == null ? java.util.List.of() : java.util.List.copyOf(backends);
    }

    /** A record of a task that has no VMM yet. */
    public static TaskRecord of(String id, String namespace, String bundle, String rootfsMount, String runDir,
                                String cgroupsPath) {
        return new TaskRecord(id, namespace, bundle, 0, 0, "", rootfsMount, runDir, cgroupsPath, "", "", "", java.util.List.of());
    }

    public ProcessIdentity vmm() {
        return new ProcessIdentity(vmmPid, vmmStartTime, bootId);
    }

    public TaskRecord withVmm(ProcessIdentity vmm) {
        return new TaskRecord(id, namespace, bundle, vmm.pid(), vmm.startTime(), vmm.bootId(), rootfsMount, runDir,
                cgroupsPath, netns, tap, ownNetns, backends);
    }

    public TaskRecord withTap(String netnsPath, String tapName) {
        return new TaskRecord(id, namespace, bundle, vmmPid, vmmStartTime, bootId, rootfsMount, runDir, cgroupsPath,
                netnsPath, tapName, ownNetns, backends);
    }

    /** The network namespace the shim created for the task (docker), to be removed with it. */
    public TaskRecord withOwnNetns(String file) {
        return new TaskRecord(id, namespace, bundle, vmmPid, vmmStartTime, bootId, rootfsMount, runDir, cgroupsPath,
                netns, tap, file, backends);
    }

    /** The processes started for the VMM (virtiofsd), to be stopped with it. */
    public TaskRecord withBackends(java.util.List<ProcessIdentity> running) {
        return new TaskRecord(id, namespace, bundle, vmmPid, vmmStartTime, bootId, rootfsMount, runDir, cgroupsPath,
                netns, tap, ownNetns, running);
    }
}
