package io.urunc.shim.runc;

import io.urunc.storage.FileTrees;
import io.urunc.storage.RootfsMount;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For the shim binary's {@code delete} after a daemon died: force-deletes the runc container named by
 * the task's {@link RuncRecord} (which kills its processes), unmounts its rootfs and removes the record.
 * Idempotent: without a record it does nothing.
 */
public final class RuncLeftovers {
    private RuncLeftovers() {}

    /** Returns the container init's pid as runc recorded it, 0 if unknown or nothing was recorded. */
    public static long delete(Path stateDir, String namespace, String id, PrintStream errors) {
        RuncRecord r = RuncRecord.load(stateDir, namespace, id).orElse(null);
        if (r == null) return 0;
        Path bundle = Path.of(r.bundle());
        long pid = readPid(bundle.resolve("init.pid"));
        // runc needs a writable log; the bundle may already be gone.
        Path logDir = Files.isDirectory(bundle) ? bundle : stateDir.resolve("runc");
        RuncCommands runc = new RuncCommands(RuncCommands.findRunc(), Path.of(r.runcRoot()), logDir, r.systemdCgroup());
        if (Files.isDirectory(Path.of(r.runcRoot(), id))) {
            try {
                Runc.run(runc.delete(id, true), runc.logFile());
            } catch (RuncException e) {
                errors.println(e.getMessage());
            }
        }
        if (!r.rootfsMount().isEmpty()) {
            try {
                RootfsMount.unmountIfMounted(Path.of(r.rootfsMount()));
            } catch (IOException e) {
                errors.println("unmount " + r.rootfsMount() + ": " + e.getMessage());
            }
        }
        try {
            if (!r.runDir().isEmpty()) FileTrees.delete(Path.of(r.runDir()));
            RuncRecord.remove(stateDir, namespace, id);
        } catch (IOException e) {
            errors.println("remove state of " + id + ": " + e.getMessage());
        }
        return pid;
    }

    private static long readPid(Path pidFile) {
        try {
            return Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
