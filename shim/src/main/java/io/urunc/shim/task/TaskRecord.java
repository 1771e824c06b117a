package io.urunc.shim.task;

/**
 * What must be undone for a task if the daemon is gone: persisted so that the shim binary's
 * {@code delete} can clean up after a crash. Paths are absolute; empty strings mean "none".
 */
public record TaskRecord(
        String id,
        String namespace,
        String bundle,
        long vmmPid,
        String rootfsMount,
        String runDir,
        String cgroupsPath,
        String netns,
        String tap,
        String ownNetns) {

    public TaskRecord withPid(long pid) {
        return new TaskRecord(id, namespace, bundle, pid, rootfsMount, runDir, cgroupsPath, netns, tap, ownNetns);
    }

    public TaskRecord withTap(String netnsPath, String tapName) {
        return new TaskRecord(id, namespace, bundle, vmmPid, rootfsMount, runDir, cgroupsPath, netnsPath, tapName, ownNetns);
    }

    /** The network namespace the shim created for the task (docker), to be removed with it. */
    public TaskRecord withOwnNetns(String file) {
        return new TaskRecord(id, namespace, bundle, vmmPid, rootfsMount, runDir, cgroupsPath, netns, tap, file);
    }
}
