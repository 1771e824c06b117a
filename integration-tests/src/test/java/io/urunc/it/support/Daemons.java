package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The urunc daemon of a test's containerd, as a process: its pid, live heap and threads. */
public final class Daemons {
    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    private Daemons() {}

    /** The one daemon of this containerd (an idle one from an earlier test may still be on its way out). */
    public static long pidOf(Containerd containerd) throws InterruptedException {
        List<ProcessHandle> d = List.of();
        for (int i = 0; i < 50; i++) {
            d = Processes.matching("io.urunc.shim.Main").stream()
                    .filter(p -> Processes.cmdline(p.pid()).contains(containerd.socket().toString()))
                    .filter(p -> Processes.cmdline(p.pid()).endsWith(" daemon ")).toList();
            if (d.size() == 1) return d.getFirst().pid();
            Thread.sleep(100);
        }
        return fail("one daemon expected: " + d);
    }

    /** Bytes of live objects on the daemon's heap, after a full collection. */
    public static long liveHeap(long pid) {
        String jcmd = Containerd.JAVA.replace("/bin/java", "/bin/jcmd");
        Exec.run(Duration.ofSeconds(30), Map.of(), jcmd, Long.toString(pid), "GC.run").ok();
        Exec.Result info = Exec.run(Duration.ofSeconds(30), Map.of(), jcmd, Long.toString(pid), "GC.heap_info").ok();
        long used = 0;
        for (String line : info.stdout().lines().toList()) {
            Matcher m = USED.matcher(line);
            // one line per generation (DefNew, Tenured), its spaces indented below it
            if (!line.startsWith(" ") && line.contains(" total ") && m.find()) used += Long.parseLong(m.group(1)) << 10;
        }
        assertTrue(used > 0, info.stdout());
        return used;
    }

    public static int threadCount(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("Threads:"))
                .mapToInt(l -> Integer.parseInt(l.substring("Threads:".length()).strip())).findFirst().orElseThrow();
    }
}
