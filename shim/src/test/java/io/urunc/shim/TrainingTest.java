package io.urunc.shim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The AOT training run goes through a daemon's Create and idle exit, without root, a containerd or QEMU. */
class TrainingTest {
    @Test
    void trainingDrivesADaemonThroughCreateAndExitsWhenIdle(@TempDir Path dir) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "-bundle", dir.toString(), "train")
                .redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "training ended");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("out")));
        String log = Files.readString(dir.resolve("state/log/training.log"));
        // the image metadata came from the training's containerd (the spec has none): the Create got to the VMM
        assertTrue(log.contains("create task failed: qemu exited with status 0 before the VM started"), log);
        assertTrue(log.contains("exiting"), log);
        assertFalse(Files.list(dir.resolve("state/tasks/aot-training")).findAny().isPresent(), "its task record is gone");
    }
}
