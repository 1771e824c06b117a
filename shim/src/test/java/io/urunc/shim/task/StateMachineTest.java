package io.urunc.shim.task;

import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class StateMachineTest {
    @Test
    void fullLifeOfATask() throws Exception {
        StateMachine m = new StateMachine("task t1");
        assertEquals(TaskState.CREATED, m.state());
        m.apply(Transition.START);
        m.apply(Transition.PAUSE);
        assertEquals(TaskState.PAUSED, m.state());
        m.apply(Transition.RESUME);
        m.apply(Transition.EXIT);
        assertEquals(TaskState.STOPPED, m.state());
        m.apply(Transition.DELETE);
        assertEquals(TaskState.DELETED, m.state());
    }

    @Test
    void deletingARunningTaskIsRefusedWithAClearMessage() throws Exception {
        StateMachine m = new StateMachine("task web");
        m.apply(Transition.START);
        TtrpcException e = assertThrows(TtrpcException.class, () -> m.apply(Transition.DELETE));
        assertEquals(Code.FAILED_PRECONDITION, e.code());
        assertEquals("cannot delete task web: it is running", e.getMessage());
        assertEquals(TaskState.RUNNING, m.state());
    }

    @Test
    void illegalTransitionsLeaveTheStateAlone() throws Exception {
        StateMachine m = new StateMachine("task t");
        assertThrows(TtrpcException.class, () -> m.apply(Transition.PAUSE));
        assertThrows(TtrpcException.class, () -> m.apply(Transition.RESUME));
        m.apply(Transition.START);
        assertThrows(TtrpcException.class, () -> m.apply(Transition.START));
        m.apply(Transition.EXIT);
        assertFalse(m.tryApply(Transition.EXIT));
        assertThrows(TtrpcException.class, () -> m.apply(Transition.START));
        m.apply(Transition.DELETE);
        assertThrows(TtrpcException.class, () -> m.apply(Transition.DELETE));
    }

    @Test
    void aCreatedTaskCanBeDeletedOrKilled() throws Exception {
        StateMachine a = new StateMachine("task a");
        a.apply(Transition.DELETE);
        StateMachine b = new StateMachine("task b");
        assertTrue(b.tryApply(Transition.EXIT));
        assertEquals(TaskState.STOPPED, b.state());
    }

    @Test
    void anExitKnowsWhetherAStartCameFirstAndALaterStartIsRefused() throws Exception {
        StateMachine started = new StateMachine("task a");
        started.apply(Transition.START);
        assertTrue(started.exitAndTellIfStarted(), "its TaskExit must wait for TaskStart");

        StateMachine created = new StateMachine("task b");
        assertFalse(created.exitAndTellIfStarted(), "its TaskExit follows TaskCreate alone");
        TtrpcException e = assertThrows(TtrpcException.class, () -> created.apply(Transition.START));
        assertEquals("cannot start task b: it is stopped", e.getMessage());
    }
}
