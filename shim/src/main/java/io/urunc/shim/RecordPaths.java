package io.urunc.shim;

import io.urunc.shim.task.TaskRecord;
import io.urunc.shim.task.TaskStore.InvalidRecordException;

import java.nio.file.Path;

/**
 * Checks that every path a task record names for removal or unmounting is one the shim made for that task: the run
 * dir and network namespace files under our state dir, the rootfs mount inside the bundle containerd gave. A record
 * is data on disk; {@code delete} acts on it as root, so it never takes a path from it on trust.
 */
final class RecordPaths {
    private RecordPaths() {}

    static void check(TaskRecord r, Path recordFile, Path stateDir, Path bundle) throws InvalidRecordException {
        Path state = stateDir.toAbsolutePath().normalize();
        requireUnder(recordFile, "runDir", r.runDir(), state.resolve("t"));
        if (!r.ownNetns().isEmpty()) requireUnder(recordFile, "ownNetns", r.ownNetns(), state.resolve("netns"));
        if (!r.rootfsMount().isEmpty()) {
            requireUnder(recordFile, "rootfsMount", r.rootfsMount(), bundle.toAbsolutePath().normalize());
        }
    }

    /** {@code path} must be a plain absolute path strictly below {@code base} (no "..", nothing else). */
    private static void requireUnder(Path recordFile, String field, String path, Path base) throws InvalidRecordException {
        Path p = Path.of(path);
        if (!p.isAbsolute() || !p.normalize().equals(p) || !p.startsWith(base) || p.equals(base)) {
            throw new InvalidRecordException(recordFile, field + " " + path + " is not below " + base
                    + ": refusing to remove or unmount it");
        }
    }
}
