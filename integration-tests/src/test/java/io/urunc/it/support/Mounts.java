package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/** Mounts seen in /proc/self/mountinfo. */
public final class Mounts {
    private Mounts() {}

    public static List<String> under(Path dir) {
        try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                    .map(l -> l.split(" ")[4])
                    .filter(m -> m.startsWith(dir.toString()))
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    public static void unmountUnder(Path dir) {
        for (String m : under(dir).stream().sorted(Comparator.reverseOrder()).toList()) {
            Exec.run(java.time.Duration.ofSeconds(10), java.util.Map.of(), "umount", "-l", m);
        }
    }
}
