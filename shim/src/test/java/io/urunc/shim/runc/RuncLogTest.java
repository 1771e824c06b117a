package io.urunc.shim.runc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class RuncLogTest {
    @Test
    void theLastErrorIsRuncsAnswer() {
        List<String> lines = List.of(
                "{\"level\":\"error\",\"msg\":\"old failure\",\"time\":\"2024-01-01T00:00:00Z\"}",
                "{\"level\":\"warning\",\"msg\":\"signal: killed\",\"time\":\"2024-01-01T00:00:01Z\"}",
                "{\"level\":\"error\",\"msg\":\"runc create failed: unable to start container process: exec: \\\"/nope\\\": no such file or directory\",\"time\":\"2024-01-01T00:00:02Z\"}",
                "{\"level\":\"info\",\"msg\":\"done\",\"time\":\"2024-01-01T00:00:03Z\"}",
                "");
        assertEquals(Optional.of("runc create failed: unable to start container process: exec: \"/nope\": no such file or directory"),
                RuncLog.lastError(lines));
    }

    @Test
    void noErrorOrGarbageGivesNothing() {
        assertEquals(Optional.empty(), RuncLog.lastError(List.of("not json", "{\"level\":\"info\",\"msg\":\"x\"}", "[1]")));
        assertEquals(Optional.empty(), RuncLog.lastError(List.of("{\"level\":\"error\",\"msg\":\"  \"}")));
    }

    @Test
    void onlyWhatOneCommandAppendedCounts(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log.json");
        Files.writeString(log, "{\"level\":\"error\",\"msg\":\"earlier command\"}\n");
        long offset = Files.size(log);
        assertEquals(Optional.of("earlier command"), RuncLog.lastError(log));
        assertEquals(Optional.empty(), RuncLog.lastError(log, offset));
        Files.writeString(log, "{\"level\":\"fatal\",\"msg\":\"container \\\"x\\\" does not exist\"}\n",
                java.nio.file.StandardOpenOption.APPEND);
        assertEquals(Optional.of("container \"x\" does not exist"), RuncLog.lastError(log, offset));
        assertEquals(Optional.empty(), RuncLog.lastError(dir.resolve("missing.json")));
    }
}
