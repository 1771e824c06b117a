package io.urunc.shim.task;

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

    TaskState state();

    /** The process containerd should know: the VMM, or the container's init. 0 before there is one. */
    int pid();

    String stdinPath();

    String stdoutPath();

    String stderrPath();

    boolean terminal();

    Optional<ExitStatus> exitStatus();

    CompletableFuture<ExitStatus> exitFuture();

    int start() throws TtrpcException;

    void kill(int signal, boolean all) throws TtrpcException;

    void pause() throws TtrpcException;

    void resume() throws TtrpcException;

    /** Releases everything the task holds; only for created or stopped tasks. */
    ExitStatus delete() throws TtrpcException;

    void closeStdin() throws TtrpcException;

    /** All process ids of the task (a unikernel has one: its VMM). */
    java.util.List<Integer> pids() throws TtrpcException;

    Optional<Cgroup> cgroup();
}
