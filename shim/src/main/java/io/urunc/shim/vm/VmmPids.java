package io.urunc.shim.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The VMM's own pid behind the {@code unshare --pid --fork} that makes it pid 1 of its namespace. Signals go to
 * the VMM itself: unshare passes none on, and its {@code --kill-child} cannot be relied on, because the kernel
 * clears a child's parent-death signal when the child changes its credentials (QEMU's {@code -runas} does).
 */
public final class VmmPids {
    private VmmPids() {}

    /** {@code launched} itself, or, while it is the unshare wrapper, the one child it forked. */
    public static long vmm(long launched) {
        long pid = launched;
        for (int depth = 0; depth < 4 && isUnshare(pid); depth++) {
            String children = read(Path.of("/proc/" + pid + "/task/" + pid + "/children")).strip();
            if (children.isEmpty() || children.contains(" ")) break;
            pid = Long.parseLong(children);
        }
        return pid;
    }

    private static boolean isUnshare(long pid) {
        return read(Path.of("/proc/" + pid + "/comm")).strip().equals("unshare");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }
}
