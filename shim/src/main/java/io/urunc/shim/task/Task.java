package io.urunc.shim.task;

import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.Cgroup;
import io.urunc.ttrpc.TtrpcException;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One containerd task as the Task service sees it: a unikernel VM ({@link UnikernelTask}) or an ordinary
 * container delegated to runc (pause and sidecar containers).
 */
public interface Task {
    String id();

    Path bundle();

    /** Its state, exit and events. */
    TaskLifecycle lifecycle();

    /** Its stdio as containerd handed it over. */
    TaskIo io();

    /** The process containerd should know: the VMM, or the container's init. 0 before there is one. */
    int pid();

    boolean terminal();

    default TaskState state() {
        return lifecycle().state();
    }

    default Optional<ExitStatus> exitStatus() {
        return lifecycle().exitStatus();
    }

    default CompletableFuture<ExitStatus> exitFuture() {
        return lifecycle().exitFuture();
    }

    default String stdinPath() {
        return io().stdinPath();
    }

    default String stdoutPath() {
        return io().stdoutPath();
    }

    default String stderrPath() {
        return io().stderrPath();
    }

    /** CloseIO: the client closed stdin. */
    default void closeStdin() {
        io().closeStdin();
    }

    int start() throws TtrpcException;

    void kill(int signal, boolean all) throws TtrpcException;

    void pause() throws TtrpcException;

    void resume() throws TtrpcException;

    /** Releases everything the task holds; only for created or stopped tasks. */
    ExitStatus delete() throws TtrpcException;

    /** All process ids of the task (a unikernel has one: its VMM). */
    java.util.List<Integer> pids() throws TtrpcException;

    Optional<Cgroup> cgroup();

    /** Exec: adds a process (not yet started) to the running task, named by the request's exec id. */
    default ExecProcess addExec(io.urunc.proto.task.ExecProcessRequest request) throws TtrpcException {
        throw TtrpcException.unimplemented("exec is not supported by task " + id());
    }

    /** The exec process of that id, or NotFound. */
    default ExecProcess exec(String execId) throws TtrpcException {
        throw TtrpcException.notFound("process " + execId + " not found: task " + id() + " has no exec processes");
    }

    /** The pids of its running exec processes, to their exec ids. */
    default java.util.Map<Integer, String> execPids() {
        return java.util.Map.of();
    }

    /** ResizePty of the task's own terminal; nothing to do without one. */
    default void resizePty(int width, int height) throws TtrpcException {}
}
