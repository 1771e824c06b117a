package io.urunc.storage;

import io.urunc.sys.Libc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shortens overlay layer paths to {@code /proc/self/fd/<n>/<relative>} under an fd of their common parent. */
final class OverlayCompaction {
    private OverlayCompaction() {}

    /** Rewritten data string; fds opened are appended to {@code openedFds} for the caller to close after mount. */
    static String compact(List<String> data, List<Integer> openedFds) throws IOException {
        List<Path> lowers = null;
        for (String d : data) {
            if (d.startsWith("lowerdir=")) {
                lowers = new ArrayList<>();
                for (String l : d.substring("lowerdir=".length()).split(":")) lowers.add(Path.of(l));
            }
        }
        if (lowers == null || lowers.isEmpty()) return String.join(",", data);
        Path common = commonParent(lowers);
        if (common == null || common.getNameCount() == 0) return String.join(",", data);
        int fd = Libc.open(common.toString(), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        openedFds.add(fd);
        String prefix = "/proc/self/fd/" + fd + "/";
        List<String> out = new ArrayList<>();
        for (String d : data) {
            if (d.startsWith("lowerdir=")) {
                List<String> rel = new ArrayList<>();
                for (Path l : lowers) rel.add(prefix + common.relativize(l));
                out.add("lowerdir=" + String.join(":", rel));
            } else {
                out.add(d);
            }
        }
        return String.join(",", out);
    }

    /** The deepest directory that is a proper parent of every path, or null if they share none. */
    static Path commonParent(List<Path> paths) {
        Path common = paths.getFirst().getParent();
        for (Path p : paths) {
            while (common != null && !(p.startsWith(common) && !p.equals(common))) common = common.getParent();
        }
        return common;
    }
}
