package io.urunc.shim.task;

import io.urunc.proto.events.TaskExecStarted;
import io.urunc.proto.events.TaskExit;
import io.urunc.proto.events.TaskOOM;
import io.urunc.proto.events.TaskPaused;
import io.urunc.proto.events.TaskResumed;
import io.urunc.proto.events.TaskStart;
import io.urunc.ttrpc.TtrpcException;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What containerd sees of one task, whatever runs it (a VM or a runc container): its state, its exit, and
 * the events, in the order containerd requires, as containerd's runc shim holds back early exits: TaskCreate
 * before any TaskExit, TaskStart before the TaskExit of a started task, no TaskExit at all for a Create that
 * failed, and Wait answered before TaskExit is sent; a TaskOOM right before the TaskExit of a task the OOM killer ended.
 *
 * <p>An exec process (containerd's {@code exec_id}) has a life of its own with the same rules: TaskExecAdded stands for
 * TaskCreate, TaskExecStarted for TaskStart, and its TaskExit names the exec id.
 */
public final class TaskLifecycle {
    /** A step of a transition that talks to the VMM or runc. */
    @FunctionalInterface
    public interface Action {
        void run() throws Exception;
    }

    private final String id;
    /** Empty for the task's own process. */
    private final String execId;
    private final TaskEvents events;
    private final StateMachine state;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    private final CompletableFuture<Void> startPublished = new CompletableFuture<>();
    /** True once TaskCreate is out; false if the Create failed (its exit is then never published). */
    private final CompletableFuture<Boolean> createPublished = new CompletableFuture<>();
    /** Done once TaskExit is out, or once it is clear none will be (a Create or an exec Start that failed). */
    private final CompletableFuture<Void> exitPublished = new CompletableFuture<>();

    public TaskLifecycle(String id, TaskEvents events) {
        this(id, "", events);
    }

    private TaskLifecycle(String id, String execId, TaskEvents events) {
        this.id = id;
        this.execId = execId;
        this.events = events;
        this.state = new StateMachine(execId.isEmpty() ? "task " + id : "exec process " + execId + " of task " + id);
    }

    /** The life of exec process {@code execId} of task {@code id}. */
    public static TaskLifecycle ofExec(String id, String execId, TaskEvents events) {
        if (execId.isEmpty()) throw new IllegalArgumentException("an exec process needs an exec id");
        return new TaskLifecycle(id, execId, events);
    }

    public TaskState state() {
        return state.state();
    }

    public void apply(Transition t) throws TtrpcException {
        state.apply(t);
    }

    /** containerd heard TaskCreate: exits held back until now go out. */
    public void createPublished() {
        createPublished.complete(true);
    }

    /** The Create failed or was rolled back: containerd never heard of the task, so it hears of no exit. */
    public void createFailed() {
        createPublished.complete(false);
        exitPublished.complete(null);
    }

    public Optional<ExitStatus> exitStatus() {
        return Optional.ofNullable(exit.getNow(null));
    }

    public CompletableFuture<ExitStatus> exitFuture() {
        return exit;
    }

    public boolean finished() {
        TaskState s = state.state();
        return s == TaskState.STOPPED || s == TaskState.DELETED || exit.isDone();
    }

    /** Signals go only to a live process; containerd expects this answer otherwise. */
    public void requireNotFinished() throws TtrpcException {
        if (finished()) throw TtrpcException.notFound("process already finished");
    }

    public boolean awaitExit(long millis) {
        try {
            exit.get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** The process runs: containerd hears TaskStart (TaskExecStarted), and any exit is reported after it. */
    public void started(int pid) {
        if (execId.isEmpty()) {
            events.publish("/tasks/start", TaskStart.newBuilder().setContainerId(id).setPid(pid).build());
        } else {
            events.publish("/tasks/exec-started", TaskExecStarted.newBuilder().setContainerId(id).setExecId(execId)
                    .setPid(pid).build());
        }
        startPublished.complete(null);
    }

    /**
     * An exec process that will never have an exit to report (its Start failed before there was a process, or its
     * container is being deleted under it): it is stopped with {@code code} unless it already exited, Wait is
     * answered, and no TaskExit goes out, as containerd's runc shim does for an exec that failed to start.
     */
    public void endWithoutExit(int code) {
        state.exitAndTellIfStarted();
        exit.complete(new ExitStatus(code, Instant.now()));
        startPublished.complete(null);
        exitPublished.complete(null);
    }

    /** Completes once this process's TaskExit has been published (or never will be). */
    public CompletableFuture<Void> exitPublished() {
        return exitPublished;
    }

    /** Start failed: an exit need not wait for a TaskStart that will never come. */
    public void startAbandoned() {
        startPublished.complete(null);
    }

    /**
     * The process ended: Wait is answered at once; TaskExit goes out after TaskCreate, and after TaskStart if the
     * task was started. The first exit is the task's: a later report (a kill racing the exit) changes nothing.
     */
    public ExitStatus exited(int pid, int code) {
        return exited(pid, code, false);
    }

    /**
     * As {@link #exited(int, int)}; {@code outOfMemory}: the kernel's OOM killer ended it, and containerd hears
     * TaskOOM just before TaskExit (under the same rules), as containerd's runc shim reports a container's OOM kill.
     */
    public ExitStatus exited(int pid, int code, boolean outOfMemory) {
        ExitStatus status = new ExitStatus(code, Instant.now());
        boolean started = state.exitAndTellIfStarted();
        if (!exit.complete(status)) return exit.join();
        Runnable publish = () -> {
            if (outOfMemory) events.publish("/tasks/oom", TaskOOM.newBuilder().setContainerId(id).build());
            events.publish("/tasks/exit", TaskExit.newBuilder()
                    .setContainerId(id).setId(execId.isEmpty() ? id : execId).setPid(pid).setExitStatus(code)
                    .setExitedAt(Timestamps.of(status.at())).build());
            exitPublished.complete(null);
        };
        CompletableFuture<Void> afterStart = started ? startPublished : CompletableFuture.completedFuture(null);
        createPublished.thenAccept(published -> {
            if (published) afterStart.thenRun(publish);
            else exitPublished.complete(null);
        });
        return status;
    }

    public void pause(Action action) throws TtrpcException {
        state.apply(Transition.PAUSE);
        run("pause", action, Transition.RESUME);
        events.publish("/tasks/paused", TaskPaused.newBuilder().setContainerId(id).build());
    }

    public void resume(Action action) throws TtrpcException {
        state.apply(Transition.RESUME);
        run("resume", action, Transition.PAUSE);
        events.publish("/tasks/resumed", TaskResumed.newBuilder().setContainerId(id).build());
    }

    /** Runs the action; if it fails the state goes back (through {@code undo}) and the error names the task. */
    private void run(String verb, Action action, Transition undo) throws TtrpcException {
        try {
            action.run();
        } catch (Exception e) {
            state.tryApply(undo);
            if (e instanceof TtrpcException t) throw t;
            throw TtrpcException.internal(verb + " task " + id + ": " + e.getMessage());
        }
    }
}
