package io.urunc.shim.task;

import io.urunc.ttrpc.TtrpcException;

/** The state of one task; every transition goes through {@link #apply}. Thread-safe. */
public final class StateMachine {
    /** How refusals name it: "task t1", "exec process e1 of task t1". */
    private final String name;
    private TaskState state = TaskState.CREATED;
    private boolean started;

    public StateMachine(String name) {
        this.name = name;
    }

    public synchronized TaskState state() {
        return state;
    }

    /** Moves to the transition's target state, or refuses with FailedPrecondition. */
    public synchronized TaskState apply(Transition t) throws TtrpcException {
        if (!t.allowedFrom(state)) {
            throw TtrpcException.failedPrecondition(
                    "cannot " + t.verb() + " " + name + ": it is " + state.name().toLowerCase());
        }
        TaskState before = state;
        state = t.target();
        if (t == Transition.START) started = true;
        return before;
    }

    /** Moves to STOPPED if it can; whether the task was ever started, decided in one step with any Start. */
    public synchronized boolean exitAndTellIfStarted() {
        tryApply(Transition.EXIT);
        return started;
    }

    /** Like {@link #apply} but returns false instead of throwing (for exits racing with deletes). */
    public synchronized boolean tryApply(Transition t) {
        if (!t.allowedFrom(state)) return false;
        state = t.target();
        if (t == Transition.START) started = true;
        return true;
    }
}
