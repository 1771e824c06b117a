package io.urunc.shim.task;

/** The life of a task, as containerd sees it. */
public enum TaskState {
    CREATED, RUNNING, PAUSED, STOPPED, DELETED
}
