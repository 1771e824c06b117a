package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Daemons;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A daemon with no request to serve gives its file pages back ([shim] idle_release_seconds) and serves on: a task that
 * ran through the release, and the next task, behave as before; the daemon is the same.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(Stack.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdleReleaseIT {
    @Parameter
    Stack stack;
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;

    @BeforeParameterizedClassInvocation
    void startContainerd() throws Exception {
        containerd = Containerd.start(stack);
        // read by each daemon at its start: this containerd has none yet
        Path toml = containerd.dir().resolve("urunc.toml");
        Files.writeString(toml, Files.readString(toml)
                .replace("idle_exit_seconds = 1\n", "idle_exit_seconds = 30\nidle_release_seconds = 0.3\n")
                + "[log]\nlevel = \"debug\"\n");
        Guests.importInto(containerd, "default", "tiny");
    }

    @AfterParameterizedClassInvocation
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    private long releases() throws IOException {
        try (Stream<Path> logs = Files.list(containerd.dir().resolve("u/log"))) {
            return logs.flatMap(f -> {
                try {
                    return Files.readAllLines(f).stream();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).filter(l -> l.contains("idle release: RSS")).count();
        }
    }

    private void awaitRelease(long after) throws Exception {
        for (int i = 0; i < 100 && releases() <= after; i++) Thread.sleep(100);
        assertTrue(releases() > after, "no idle release logged\n" + containerd.shimLogs());
    }

    @Test
    void aDaemonThatGaveItsPagesBackServesItsRunningTaskAndTheNext() throws Exception {
        containerd.ctr("run", "-d", "--runtime", RUNTIME, Guests.TINY, "rel-running", "run").ok();
        long pid = Daemons.pidOf(containerd);
        awaitRelease(0);
        long released = releases();

        Exec.Result next = containerd.ctr("run", "--rm", "--runtime", RUNTIME, Guests.TINY, "rel-next", "exit=3");
        assertEquals(3, next.exit(), next + containerd.shimLogs());
        assertTrue(containerd.ctr("task", "ls").stdout().contains("rel-running"), "the running task is still there");
        awaitRelease(released);
        containerd.ctr("task", "kill", "-s", "SIGKILL", "rel-running").ok();
        for (int i = 0; i < 100 && containerd.ctr("task", "delete", "rel-running").exit() != 0; i++) Thread.sleep(50);
        containerd.ctr("container", "delete", "rel-running").ok();
        assertEquals(pid, Daemons.pidOf(containerd), "one daemon served it all");
    }
}
