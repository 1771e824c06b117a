package io.urunc.shim.task;

import io.urunc.ttrpc.TtrpcException;

/** The state of one task; every transition goes through {@link #apply}. Thread-safe. */
public final class StateMachine {
    private final String taskId;
    private TaskState state = TaskState.CREATED;

    public StateMachine(String taskId) {
        this.taskId = taskId;
    }

    public synchronized TaskState state() {
        return state;
    }

    /** Moves to the transition's target state, or refuses with FailedPrecondition. */
    public synchronized TaskState apply(Transition t) throws TtrpcException {
        if (!t.allowedFrom(state)) {
            throw TtrpcException.failedPrecondition(
                    "cannot " + t.verb() + " task " + taskId + ": it is " + state.name().toLowerCase());
        }
        TaskState before = state;
        state = t.target();
        return before;
    }

    /** Like {@link #apply} but returns false instead of throwing (for exits racing with deletes). */
    public synchronized boolean tryApply(Transition t) {
        if (!t.allowedFrom(state)) return false;
        state = t.target();
        return true;
    }
}
