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

    @Test
    void aCreateThatOutlivesItsTtrpcDeadlineLeavesNoTask() throws Exception {
        AtomicReference<UnikernelTask> made = new AtomicReference<>();
        TaskCreator slow = (req, events) -> {
            // busy with something that does not heed interrupts (a process start, a mount) past the deadline
            long until = System.nanoTime() + 600_000_000L;
            while (System.nanoTime() < until) Thread.onSpinWait();
            try {
                made.set(ScriptedVmm.create(req.getId(), dir, ScriptedVmm.STOPS_ON_TERM, true, Duration.ofSeconds(10),
                        events, new Cleanup()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return made.get();
        };
        TaskService service = new TaskService(slow, (topic, event) -> topics.add(topic),
                new TaskLocks(dir.resolve("state")), "default", () -> {});
        io.urunc.ttrpc.TtrpcServer server = service.register(io.urunc.ttrpc.TtrpcServer.builder()).build();
        server.bind(dir.resolve("t.sock"));
        try (io.urunc.ttrpc.TtrpcClient client = io.urunc.ttrpc.TtrpcClient.connect(dir.resolve("t.sock"))) {
            TtrpcException e = assertThrows(TtrpcException.class, () -> client.call(TaskService.SERVICE, "Create",
                    CreateTaskRequest.newBuilder().setId("slow").build(), io.urunc.proto.task.CreateTaskResponse.parser(),
                    Duration.ofMillis(200), Map.of()));
            assertEquals(Code.DEADLINE_EXCEEDED, e.code());

            long deadline = System.nanoTime() + 5_000_000_000L;
            // the VMM is stopped during the roll-back, the create's bookkeeping ends just after it
            while ((made.get() == null || !made.get().exitFuture().isDone() || service.taskCount() > 0)
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(made.get().exitFuture().isDone(), "the VMM the late Create started is stopped");
            assertEquals(0, service.taskCount(), "no task keeps the daemon alive");
            assertThrows(TtrpcException.class, () -> client.call(TaskService.SERVICE, "State",
                    io.urunc.proto.task.StateRequest.newBuilder().setId("slow").build(),
                    io.urunc.proto.task.StateResponse.parser(), Duration.ofSeconds(2), Map.of()));
            assertEquals(List.of(), topics);
        } finally {
            server.close();
        }
    }
}
