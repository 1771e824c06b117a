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

    @Test
    void anExecProcessHasItsOwnEventsNamingItsExecId() throws Exception {
        TaskLifecycle exec = TaskLifecycle.ofExec("t1", "e1", (topic, event) -> {
            topics.add(topic);
            events.add(event);
        });
        exec.createPublished();
        exec.apply(Transition.START);
        exec.exited(77, 3);
        assertEquals(List.of(), topics, "its TaskExit waits for TaskExecStarted");
        assertFalse(exec.exitPublished().isDone());
        exec.started(77);
        assertEquals(List.of("/tasks/exec-started", "/tasks/exit"), topics);
        io.urunc.proto.events.TaskExecStarted started = (io.urunc.proto.events.TaskExecStarted) events.get(0);
        assertEquals("t1", started.getContainerId());
        assertEquals("e1", started.getExecId());
        assertEquals(77, started.getPid());
        TaskExit exit = (TaskExit) events.get(1);
        assertEquals("t1", exit.getContainerId());
        assertEquals("e1", exit.getId(), "the exit names the exec process, not the container");
        assertEquals(3, exit.getExitStatus());
        assertTrue(exec.exitPublished().isDone());
        TtrpcException e = assertThrows(TtrpcException.class, () -> exec.apply(Transition.START));
        assertEquals("cannot start exec process e1 of task t1: it is stopped", e.getMessage());
    }

    @Test
    void anExecThatNeverRanAnswersWaitWithoutATaskExit() throws Exception {
        TaskLifecycle exec = TaskLifecycle.ofExec("t1", "e2", (topic, event) -> topics.add(topic));
        exec.createPublished();
        exec.apply(Transition.START);
        exec.endWithoutExit(255);
        assertEquals(255, exec.exitFuture().get().code(), "Wait is answered");
        assertTrue(exec.exitPublished().isDone(), "nobody waits for an exit that will not come");
        assertEquals(TaskState.STOPPED, exec.state());
        assertEquals(List.of(), topics);
        exec.apply(Transition.DELETE);
    }
}
