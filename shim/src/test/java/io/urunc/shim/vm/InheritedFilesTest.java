package io.urunc.shim.vm;

import io.urunc.vmm.LaunchPlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The shell in front of the VMM gives it the shim's open files on the numbers the plan says, in their modes. */
class InheritedFilesTest {
    @Test
    void theVmmGetsTheShimsOpenFileReadWriteAndReadOnly(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("disk,with comma"), "original");
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // the shim's descriptor, as /proc/<pid>/fd/<n>: the file is renamed away, the descriptor still names it
            Path proc = Files.list(Path.of("/proc/self/fd")).filter(f -> {
                try {
                    return Files.readSymbolicLink(f).equals(file);
                } catch (Exception e) {
                    return false;
                }
            }).findFirst().orElseThrow();
            Path byPid = Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/" + proc.getFileName());
            Files.move(file, dir.resolve("moved"));
            List<String> argv = VmProcess.withInheritedFiles(Map.of(3, new LaunchPlan.InheritedFile(byPid, true),
                    4, new LaunchPlan.InheritedFile(byPid, false)), List.of("/bin/sh", "-c",
                    "echo -n vmm-wrote >&3; cat <&4; echo; echo x >&4 2>/dev/null || echo fd4-read-only"));
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            String out = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("fd4-read-only"), out);
            assertTrue(Files.readString(dir.resolve("moved")).startsWith("vmm-wrote"), "written through fd 3");
        }
    }
}
