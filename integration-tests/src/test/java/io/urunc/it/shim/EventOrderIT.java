package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The task events containerd receives, as `ctr events` shows them, in the order containerd's runc shim sends them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventOrderIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;

    @BeforeAll
    void startContainerd() throws Exception {
        containerd = Containerd.start();
        Guests.importInto(containerd, "default", "tiny");
    }

    @AfterAll
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    /** The task topics of one container, in the order containerd published them, while {@code action} ran. */
    private List<String> topicsOf(String id, Runnable action) throws Exception {
        Path out = containerd.dir().resolve(id + ".events");
        ProcessBuilder pb = new ProcessBuilder("ctr", "--address", containerd.socket().toString(), "events")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(containerd.env());
        Process events = pb.start();
        try {
            Thread.sleep(500);
            action.run();
            Thread.sleep(1500); // an exit published late would arrive here
        } finally {
            events.destroy();
            events.waitFor(5, TimeUnit.SECONDS);
        }
        return Files.readAllLines(out).stream()
                .filter(l -> l.contains("\"" + id + "\"") || l.contains(":" + id + ",") || l.contains("\"container_id\":\"" + id))
                .map(l -> l.replaceAll(".*?(/tasks/[a-z-]+).*", "$1"))
                .filter(t -> t.startsWith("/tasks/"))
                .toList();
    }

    private Exec.Result run(String... args) {
        return containerd.ctr(Duration.ofMinutes(2), Exec.concat(List.of("run", "--rm", "--runtime", RUNTIME), args)
                .toArray(String[]::new));
    }

    @Test
    void aVmmThatDiesDuringCreateGetsNoTaskExit() throws Exception {
        Exec.Result[] r = new Exec.Result[1];
        // not a kernel: QEMU starts, refuses it and exits while Create waits for its control socket
        List<String> topics = topicsOf("dies-in-create", () -> r[0] = run("--annotation",
                "com.urunc.unikernel.binary=/urunc.json", Guests.TINY, "dies-in-create", "exit=0"));
        assertNotEquals(0, r[0].exit(), r[0].toString());
        assertTrue(r[0].stderr().contains("qemu exited with status 1"), r[0].toString());
        assertFalse(topics.contains("/tasks/exit"), "no TaskExit for a task whose Create failed: " + topics);
        assertFalse(topics.contains("/tasks/create"), topics.toString());
        containerd.ctr("container", "delete", "dies-in-create");
    }

    @Test
    void aTaskThatRunsReportsCreateStartExitDeleteInThatOrder() throws Exception {
        Exec.Result[] r = new Exec.Result[1];
        List<String> topics = topicsOf("in-order", () -> r[0] = run(Guests.TINY, "in-order", "exit=3"));
        assertEquals(3, r[0].exit(), r[0].toString());
        assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"), topics);
    }
}
