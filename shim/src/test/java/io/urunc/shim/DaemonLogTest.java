package io.urunc.shim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DaemonLogTest {
    @Test
    void placeholdersTakeParametersAsWrittenAndDoubledQuotesAreOne() {
        assertEquals("task t1 created (VMM pid 123456)", DaemonLog.format("task {0} created (VMM pid {1})", "t1", 123456L));
        assertEquals("'ip link' in /x: {2} {} {a}", DaemonLog.format("''{0}'' in {1}: {2} {} {a}", "ip link", "/x"));
        assertEquals("a {0} b", DaemonLog.format("a {0} b"), "without parameters the message is taken as is");
    }

    @Test
    void daemonLinesGoToTheFileFromTheConfiguredLevelOn(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("d.log");
        System.Logger log = new DaemonLog().getLogger("io.urunc.shim.Example", DaemonLog.class.getModule());
        DaemonLog.toFile(file, "info");
        try {
            log.log(System.Logger.Level.DEBUG, "hidden {0}", 1);
            log.log(System.Logger.Level.INFO, "task {0} started", "t1");
            log.log(System.Logger.Level.WARNING, "failed", new IllegalStateException("boom"));
        } finally {
            DaemonLog.off();
        }
        log.log(System.Logger.Level.ERROR, "after off");
        List<String> lines = Files.readAllLines(file);
        assertTrue(lines.get(0).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d,\\d{3} INFO  \\[.*] Example task t1 started"), lines.get(0));
        assertTrue(lines.get(1).contains(" WARN  [") && lines.get(1).endsWith("Example failed"), lines.get(1));
        assertEquals("java.lang.IllegalStateException: boom", lines.get(2));
        assertFalse(String.join("\n", lines).contains("hidden"));
        assertFalse(String.join("\n", lines).contains("after off"), "nothing is written after off");
    }
}
