package io.urunc.shim.task;

import java.util.Map;
import java.util.Set;

/**
 * Every legal state change of a task, in one place. A request that does not fit the current state is
 * refused with a message naming the task, the action and the state.
 */
public enum Transition {
    START(Set.of(TaskState.CREATED), TaskState.RUNNING),
    PAUSE(Set.of(TaskState.RUNNING), TaskState.PAUSED),
    RESUME(Set.of(TaskState.PAUSED), TaskState.RUNNING),
    EXIT(Set.of(TaskState.CREATED, TaskState.RUNNING, TaskState.PAUSED), TaskState.STOPPED),
    DELETE(Set.of(TaskState.CREATED, TaskState.STOPPED), TaskState.DELETED);

    private final Set<TaskState> from;
    private final TaskState to;

    Transition(Set<TaskState> from, TaskState to) {
        this.from = from;
        this.to = to;
    }

    public TaskState target() {
        return to;
    }

    public boolean allowedFrom(TaskState state) {
        return from.contains(state);
    }

    private static final Map<Transition, String> VERBS = Map.of(
            START, "start", PAUSE, "pause", RESUME, "resume", EXIT, "stop", DELETE, "delete");

    public String verb() {
        return VERBS.get(this);
    }
}
