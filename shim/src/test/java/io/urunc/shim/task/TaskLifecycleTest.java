package io.urunc.shim.task;

import com.google.protobuf.Message;
import io.urunc.proto.events.TaskExit;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TaskLifecycleTest {
    private final List<String> topics = new ArrayList<>();
    private final List<Message> events = new ArrayList<>();
    private final TaskLifecycle life = new TaskLifecycle("t1", (topic, event) -> {
        topics.add(topic);
        events.add(event);
    });

    @Test
    void anExitRacingStartIsReportedAfterTaskStart() throws Exception {
        life.createPublished();
        life.apply(Transition.START);
        // The guest exits before the shim got to publish TaskStart (a 14 ms unikernel does that).
        ExitStatus s = life.exited(42, 3);
        assertTrue(life.exitFuture().isDone(), "Wait is answered at once");
        assertEquals(3, s.code());
        assertEquals(List.of(), topics, "but TaskExit waits for TaskStart");
        life.started(42);
        assertEquals(List.of("/tasks/start", "/tasks/exit"), topics);
        TaskExit exit = (TaskExit) events.get(1);
        assertEquals("t1", exit.getContainerId());
        assertEquals(42, exit.getPid());
        assertEquals(3, exit.getExitStatus());
        assertEquals(TaskState.STOPPED, life.state());
    }

    @Test
    void anOomKillIsTaskOomRightBeforeTaskExitAndNeverBeforeTaskStart() throws Exception {
        life.createPublished();
        life.apply(Transition.START);
        life.exited(42, 137, true);
        assertEquals(List.of(), topics);
        life.started(42);
        assertEquals(List.of("/tasks/start", "/tasks/oom", "/tasks/exit"), topics);
        assertEquals("t1", ((io.urunc.proto.events.TaskOOM) events.get(1)).getContainerId());
        assertEquals(137, ((TaskExit) events.get(2)).getExitStatus());
    }

    @Test
    void aFailedCreateHearsOfNoOomEither() {
        life.createFailed();
        life.exited(42, 137, true);
        assertEquals(List.of(), topics);
    }

    @Test
    void aTaskKilledBeforeStartReportsItsExitAtOnce() {
        life.createPublished();
        life.exited(7, 137);
        assertEquals(List.of("/tasks/exit"), topics);
        assertTrue(life.finished());
        TtrpcException e = assertThrows(TtrpcException.class, life::requireNotFinished);
        assertEquals(Code.NOT_FOUND, e.code());
        assertEquals("process already finished", e.getMessage());
    }

    @Test
    void aFailedStartDoesNotHoldBackTheExit() throws Exception {
        life.createPublished();
        life.apply(Transition.START);
        life.startAbandoned();
        life.exited(9, 1);
        assertEquals(List.of("/tasks/exit"), topics);
    }

    @Test
    void pauseAndResumePublishOnlyWhenTheyWork() throws Exception {
        life.apply(Transition.START);
        life.pause(() -> {});
        assertEquals(TaskState.PAUSED, life.state());
        TtrpcException e = assertThrows(TtrpcException.class, () -> life.resume(() -> {
            throw new IOException("QMP connection reset");
        }));
        assertEquals("resume task t1: QMP connection reset", e.getMessage());
        assertEquals(TaskState.PAUSED, life.state(), "a failed resume leaves it paused");
        life.resume(() -> {});
        assertEquals(List.of("/tasks/paused", "/tasks/resumed"), topics);
        assertEquals(TaskState.RUNNING, life.state());
    }

    @Test
    void anExitDuringCreateIsReportedOnlyAfterTaskCreate() {
        life.exited(7, 1);
        assertTrue(life.exitFuture().isDone());
        assertEquals(List.of(), topics, "containerd has not heard of the task yet");
        life.createPublished();
        assertEquals(List.of("/tasks/exit"), topics);
    }

    @Test
    void aFailedCreateNeverReportsAnExit() {
        life.exited(7, 1);
        life.createFailed();
        assertEquals(List.of(), topics);
    }

    @Test
    void aSecondExitReportChangesNothing() {
        life.createPublished();
        life.exited(7, 137);
        ExitStatus again = life.exited(7, 0);
        assertEquals(137, again.code());
        assertEquals(List.of("/tasks/exit"), topics);
    }
}
