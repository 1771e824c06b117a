package io.urunc.shim;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The AOT training run goes through a daemon's Create and idle exit, without root, a containerd or QEMU. */
class TrainingTest {
    /** One training run (a JVM of its own, several seconds) serves every test here. */
    @TempDir
    static Path dir;
    private static String log;

    @BeforeAll
    static void train() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "-bundle", dir.toString(), "train")
                .redirectErrorStream(true).redirectOutput(dir.resolve("out").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "training ended");
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("out")));
        log = Files.readString(dir.resolve("state/log/training.log"));
    }

    @Test
    void trainingDrivesADaemonThroughCreateAndExitsWhenIdle() throws Exception {
        // the image metadata came from the training's containerd (the spec has none): the Create got to the VMM
        assertTrue(log.contains("create task failed: qemu exited with status 0 before the VM started"), log);
        assertTrue(log.contains("exiting"), log);
        assertFalse(Files.list(dir.resolve("state/tasks/aot-training")).findAny().isPresent(), "its task record is gone");
    }

    /** As root with iproute2 the second task's VM is attached in a namespace of the training's own, gone after it. */
    @Test
    void asRootTheTrainingAttachesAVmInAThrowawayNamespaceThatEndsWithIt() throws Exception {
        Assumptions.assumeTrue(Files.readString(Path.of("/proc/self/status")).matches("(?s).*\\nUid:\\s+\\d+\\s+0\\s.*"), "not root");
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")), "no ip");
        Matcher attached = Pattern.compile("container task-net: tap urt\\w+ redirected to eth0 in /proc/(\\d+)/ns/net").matcher(log);
        assertTrue(attached.find(), log);
        assertTrue(log.contains("create task-net failed"), "rolled back like the first task: " + log);
        long holder = Long.parseLong(attached.group(1));
        assertFalse(ProcessHandle.of(holder).map(ProcessHandle::isAlive).orElse(false), "the namespace's holder " + holder + " ended");
    }
}
