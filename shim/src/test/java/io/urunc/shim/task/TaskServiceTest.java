package io.urunc.shim.task;

import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.ttrpc.CallContext;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

class TaskServiceTest {
    @TempDir
    Path dir;
    final List<String> topics = Collections.synchronizedList(new ArrayList<>());

    @Test
    void aCreateWhoseCallerGaveUpIsRolledBackWithoutEvents() throws Exception {
        AtomicReference<UnikernelTask> made = new AtomicReference<>();
        Path marker = Files.createFile(dir.resolve("set-up-by-create"));
        TaskCreator creator = (req, events) -> {
            Cleanup cleanup = new Cleanup();
            cleanup.push("marker", () -> Files.delete(marker));
            try {
                made.set(ScriptedVmm.create(req.getId(), dir, ScriptedVmm.STOPS_ON_TERM, true, Duration.ofSeconds(10),
                        events, cleanup));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return made.get();
        };
        TaskService service = new TaskService(creator, (topic, event) -> topics.add(topic),
                new TaskLocks(dir.resolve("state")), "default", () -> {});
        CallContext gone = new CallContext("containerd.task.v2.Task", "Create", Map.of(), null, () -> true);

        TtrpcException e = assertThrows(TtrpcException.class,
                () -> service.create(CreateTaskRequest.newBuilder().setId("late").build(), gone));

        assertEquals(Code.CANCELLED, e.code());
        assertTrue(e.getMessage().contains("rolled back"), e.getMessage());
        assertEquals(0, service.taskCount(), "no task stays to keep the daemon alive");
        assertTrue(made.get().exitFuture().isDone(), "its VMM was stopped");
        assertFalse(Files.exists(marker), "what Create set up is released");
        Thread.sleep(100);
        assertEquals(List.of(), topics, "containerd hears nothing of a task it never got");
    }
}
