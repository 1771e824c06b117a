package io.urunc.shim.vm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds the VMM under the wrappers the shim starts in front of it ({@code unshare --pid --fork} makes the VMM
 * pid 1 of its namespace as a child; {@code nsenter} with a pid namespace forks too). A wrapper that has not
 * forked yet, or runs anything but one child, is its own answer.
 */
public final class VmmLookup {
    private static final Set<String> FORKING_WRAPPERS = Set.of("unshare", "nsenter");
    private static final int MAX_DEPTH = 4;

    private VmmLookup() {}

    public static ProcessIdentity vmmUnder(ProcessIdentity launched) {
        ProcessIdentity current = launched;
        for (int depth = 0; depth < MAX_DEPTH && FORKING_WRAPPERS.contains(comm(current.pid())); depth++) {
            List<Long> children = children(current.pid());
            if (children.size() != 1) break;
            ProcessIdentity child = ProcessIdentity.of(children.getFirst()).orElse(null);
            // the child must still be this wrapper's (the wrapper is ours and alive, so its pid is not reused)
            if (child == null || !current.alive() || parent(child.pid()) != current.pid()) break;
            current = child;
        }
        return current;
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/comm")).strip();
        } catch (IOException e) {
            return "";
        }
    }

    static List<Long> children(long pid) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                String list = Files.readString(task.resolve("children")).strip();
                for (String c : list.isEmpty() ? new String[0] : list.split("\\s+")) out.add(Long.parseLong(c));
            }
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
        return out;
    }

    private static long parent(long pid) {
        return io.urunc.shim.runc.ProcStat.read(pid).map(st -> (long) st.ppid()).orElse(-1L);
    }
}
