package io.urunc.shim.task;

import io.urunc.shim.io.TaskIo;
import io.urunc.ttrpc.TtrpcException;

/**
 * A process containerd added to a running task beside its init ({@code Exec} with an exec id): created by Exec,
 * run by Start, reaped and reported on its own, released by Delete. Its states and events are its
 * {@link TaskLifecycle}'s.
 */
public interface ExecProcess {
    String execId();

    TaskLifecycle lifecycle();

    TaskIo io();

    /** 0 until it is started. */
    int pid();

    boolean terminal();

    int start() throws TtrpcException;

    void kill(int signal) throws TtrpcException;

    /** CloseIO: the client closed stdin (it may do so before Start: what it wrote is still read). */
    void closeStdin();

    /** The window size of its terminal; nothing to do without one. */
    void resizePty(int width, int height) throws TtrpcException;

    /** Only a created or stopped process: its stdio is closed and it is forgotten. */
    ExitStatus delete() throws TtrpcException;
}
