package io.urunc.shim.task;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import io.urunc.proto.events.TaskCreate;
import io.urunc.proto.events.TaskDelete;
import io.urunc.proto.events.TaskExecAdded;
import io.urunc.proto.events.TaskIO;
import io.urunc.proto.task.*;
import io.urunc.proto.types.task.ProcessInfo;
import io.urunc.proto.types.task.Status;
import io.urunc.shim.vm.Cgroup;
import io.urunc.ttrpc.CallContext;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.ttrpc.TtrpcServer;
import java.lang.System.Logger.Level;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * containerd.task.v2.Task over the daemon's tasks: unikernel VMs and containers delegated to runc. A request with an
 * exec id goes to that exec process of the task (runc containers have them; a unikernel has no second process).
 */
public final class TaskService {
    private static final System.Logger LOG = System.getLogger(TaskService.class.getName());
    public static final String SERVICE = "containerd.task.v2.Task";
    private static final java.time.Duration LOCK_TIMEOUT = java.time.Duration.ofSeconds(30);

    private final TaskCreator factory;
    private final TaskEvents events;
    private final Map<String, Task> tasks = new ConcurrentHashMap<>();
    /** Ids whose Create is under way, so that a concurrent Create of the same id is refused. */
    private final java.util.Set<String> creating = ConcurrentHashMap.newKeySet();
    private final Runnable onShutdownRequest;
    private final TaskLocks locks;
    private final String namespace;

    public TaskService(TaskCreator factory, TaskEvents events, TaskLocks locks, String namespace,
                       Runnable onShutdownRequest) {
        this.factory = factory;
        this.events = events;
        this.locks = locks;
        this.namespace = namespace;
        this.onShutdownRequest = onShutdownRequest;
    }

    public int taskCount() {
        return tasks.size() + creating.size();
    }

    public TtrpcServer.Builder register(TtrpcServer.Builder b) {
        return b.register(SERVICE, "Create", CreateTaskRequest.parser(), (r, c) -> create(r, c))
                .register(SERVICE, "Start", StartRequest.parser(), (r, c) -> start(r))
                .register(SERVICE, "State", StateRequest.parser(), (r, c) -> state(r))
                .register(SERVICE, "Wait", WaitRequest.parser(), (r, c) -> await(r))
                .register(SERVICE, "Kill", KillRequest.parser(), (r, c) -> kill(r))
                .register(SERVICE, "Delete", DeleteRequest.parser(), (r, c) -> delete(r))
                .register(SERVICE, "Pids", PidsRequest.parser(), (r, c) -> pids(r))
                .register(SERVICE, "Pause", PauseRequest.parser(), (r, c) -> {
                    task(r.getId()).pause();
                    return Empty.getDefaultInstance();
                })
                .register(SERVICE, "Resume", ResumeRequest.parser(), (r, c) -> {
                    task(r.getId()).resume();
                    return Empty.getDefaultInstance();
                })
                .register(SERVICE, "CloseIO", CloseIORequest.parser(), (r, c) -> {
                    Task t = task(r.getId());
                    if (r.getStdin()) {
                        if (r.getExecId().isEmpty()) t.closeStdin();
                        else t.exec(r.getExecId()).closeStdin();
                    }
                    return Empty.getDefaultInstance();
                })
                .register(SERVICE, "Connect", ConnectRequest.parser(), (r, c) -> connect(r))
                .register(SERVICE, "Shutdown", ShutdownRequest.parser(), (r, c) -> {
                    onShutdownRequest.run();
                    return Empty.getDefaultInstance();
                })
                .register(SERVICE, "Stats", StatsRequest.parser(), (r, c) -> stats(r))
                .register(SERVICE, "Update", UpdateTaskRequest.parser(), (r, c) -> update(r))
                .register(SERVICE, "ResizePty", ResizePtyRequest.parser(), (r, c) -> {
                    Task t = task(r.getId());
                    if (r.getExecId().isEmpty()) t.resizePty(r.getWidth(), r.getHeight());
                    else t.exec(r.getExecId()).resizePty(r.getWidth(), r.getHeight());
                    return Empty.getDefaultInstance();
                })
                .register(SERVICE, "Exec", ExecProcessRequest.parser(), (r, c) -> exec(r))
                .register(SERVICE, "Checkpoint", CheckpointTaskRequest.parser(), (r, c) -> {
                    task(r.getId());
                    throw TtrpcException.unimplemented("checkpoint is not supported for unikernel tasks");
                });
    }

    private Task task(String id) throws TtrpcException {
        Task t = tasks.get(id);
        if (t == null) throw TtrpcException.notFound("task " + id + " not found");
        return t;
    }

    private Empty exec(ExecProcessRequest r) throws TtrpcException {
        Task t = task(r.getId());
        if (r.getExecId().isEmpty()) throw TtrpcException.invalidArgument("exec into task " + t.id() + ": no exec id");
        ExecProcess p = t.addExec(r);
        events.publish("/tasks/exec-added", TaskExecAdded.newBuilder().setContainerId(t.id())
                .setExecId(r.getExecId()).build());
        p.lifecycle().createPublished();
        LOG.log(Level.INFO, "task {0}: exec process {1} added", t.id(), r.getExecId());
        return Empty.getDefaultInstance();
    }

    CreateTaskResponse create(CreateTaskRequest r, CallContext call) throws TtrpcException {
        if (!r.getCheckpoint().isEmpty()) {
            throw TtrpcException.unimplemented("restoring from a checkpoint is not supported for unikernel tasks");
        }
        if (tasks.containsKey(r.getId()) || !creating.add(r.getId())) {
            throw TtrpcException.alreadyExists("task " + r.getId() + " already exists");
        }
        long began = System.nanoTime();
        try (TaskLocks.Held ignored = lock(r.getId())) {
            Task task = factory.create(r, events);
            if (call.abandoned()) {
                rollBack(task);
                throw new TtrpcException(Code.CANCELLED, "create of task " + r.getId()
                        + " was given up by its caller (deadline passed or connection closed): rolled back");
            }
            tasks.put(r.getId(), task);
            events.publish("/tasks/create", TaskCreate.newBuilder()
                    .setContainerId(r.getId()).setBundle(r.getBundle()).addAllRootfs(r.getRootfsList())
                    .setIo(TaskIO.newBuilder().setStdin(r.getStdin()).setStdout(r.getStdout())
                            .setStderr(r.getStderr()).setTerminal(r.getTerminal()))
                    .setPid(task.pid()).build());
            task.lifecycle().createPublished();
            LOG.log(Level.INFO, "task {0} created (VMM pid {1}) in {2} ms", r.getId(), task.pid(),
                    (System.nanoTime() - began) / 1_000_000);
            return CreateTaskResponse.newBuilder().setPid(task.pid()).build();
        } catch (TtrpcException | RuntimeException e) {
            LOG.log(Level.WARNING, "create {0} failed: {1}", r.getId(), e.getMessage());
            throw e;
        } finally {
            creating.remove(r.getId());
        }
    }

    /** A task containerd never heard of: stopped and released without events. */
    private void rollBack(Task task) {
        task.lifecycle().createFailed();
        try {
            task.delete();
        } catch (TtrpcException | RuntimeException e) {
            LOG.log(Level.WARNING, "task {0}: rolling back its create: {1}", task.id(), e.getMessage());
        }
        LOG.log(Level.WARNING, "task {0}: its caller gave up on the create; rolled back", task.id());
    }

    /** Serialises Create and Delete with {@code shim delete} of the same task (another process). */
    private TaskLocks.Held lock(String id) throws TtrpcException {
        try {
            return locks.acquire(namespace, id, LOCK_TIMEOUT);
        } catch (java.io.IOException e) {
            throw new TtrpcException(Code.UNAVAILABLE, e.getMessage());
        }
    }

    private StartResponse start(StartRequest r) throws TtrpcException {
        if (!r.getExecId().isEmpty()) {
            int pid = task(r.getId()).exec(r.getExecId()).start();
            LOG.log(Level.INFO, "task {0}: exec process {1} started (pid {2})", r.getId(), r.getExecId(), pid);
            return StartResponse.newBuilder().setPid(pid).build();
        }
        int pid = task(r.getId()).start();
        LOG.log(Level.INFO, "task {0} started", r.getId());
        return StartResponse.newBuilder().setPid(pid).build();
    }

    private StateResponse state(StateRequest r) throws TtrpcException {
        Task t = task(r.getId());
        if (!r.getExecId().isEmpty()) return execState(t, t.exec(r.getExecId()));
        StateResponse.Builder b = StateResponse.newBuilder()
                .setId(t.id()).setBundle(t.bundle().toString()).setPid(t.pid())
                .setStatus(status(t.state())).setTerminal(t.terminal())
                .setStdin(t.stdinPath()).setStdout(t.stdoutPath()).setStderr(t.stderrPath())
                .setExitedAt(Timestamps.GO_ZERO);
        t.exitStatus().ifPresent(e -> b.setExitStatus(e.code()).setExitedAt(Timestamps.of(e.at())));
        return b.build();
    }

    private static StateResponse execState(Task t, ExecProcess p) {
        StateResponse.Builder b = StateResponse.newBuilder()
                .setId(p.execId()).setExecId(p.execId()).setBundle(t.bundle().toString()).setPid(p.pid())
                .setStatus(t.state() == TaskState.PAUSED && !p.lifecycle().finished() ? Status.PAUSED
                        : status(p.lifecycle().state()))
                .setTerminal(p.terminal())
                .setStdin(p.io().stdinPath()).setStdout(p.io().stdoutPath()).setStderr(p.io().stderrPath())
                .setExitedAt(Timestamps.GO_ZERO);
        p.lifecycle().exitStatus().ifPresent(e -> b.setExitStatus(e.code()).setExitedAt(Timestamps.of(e.at())));
        return b.build();
    }

    private static Status status(TaskState s) {
        return switch (s) {
            case CREATED -> Status.CREATED;
            case RUNNING -> Status.RUNNING;
            case PAUSED -> Status.PAUSED;
            case STOPPED, DELETED -> Status.STOPPED;
        };
    }

    private WaitResponse await(WaitRequest r) throws TtrpcException {
        Task t = task(r.getId());
        java.util.concurrent.Future<ExitStatus> exit = r.getExecId().isEmpty() ? t.exitFuture()
                : t.exec(r.getExecId()).lifecycle().exitFuture();
        try {
            ExitStatus e = exit.get();
            return WaitResponse.newBuilder().setExitStatus(e.code()).setExitedAt(Timestamps.of(e.at())).build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TtrpcException(Code.CANCELLED, "wait interrupted");
        } catch (ExecutionException e) {
            throw TtrpcException.internal("wait: " + e.getCause());
        }
    }

    private Empty kill(KillRequest r) throws TtrpcException {
        if (!r.getExecId().isEmpty()) task(r.getId()).exec(r.getExecId()).kill(r.getSignal());
        else task(r.getId()).kill(r.getSignal(), r.getAll());
        return Empty.getDefaultInstance();
    }

    private DeleteResponse delete(DeleteRequest r) throws TtrpcException {
        Task t = task(r.getId());
        if (!r.getExecId().isEmpty()) {
            // An exec process's Delete publishes nothing: containerd's TaskDelete is the container's.
            ExecProcess p = t.exec(r.getExecId());
            ExitStatus e = p.delete();
            LOG.log(Level.INFO, "task {0}: exec process {1} deleted (exit {2})", t.id(), p.execId(), e.code());
            return DeleteResponse.newBuilder().setPid(p.pid()).setExitStatus(e.code())
                    .setExitedAt(Timestamps.of(e.at())).build();
        }
        int pid = t.pid();
        ExitStatus e;
        try (TaskLocks.Held ignored = lock(r.getId())) {
            e = t.delete();
        }
        tasks.remove(r.getId());
        events.publish("/tasks/delete", TaskDelete.newBuilder().setContainerId(t.id()).setId(t.id())
                .setPid(pid).setExitStatus(e.code()).setExitedAt(Timestamps.of(e.at())).build());
        LOG.log(Level.INFO, "task {0} deleted (exit {1})", t.id(), e.code());
        return DeleteResponse.newBuilder().setPid(pid).setExitStatus(e.code())
                .setExitedAt(Timestamps.of(e.at())).build();
    }

    private PidsResponse pids(PidsRequest r) throws TtrpcException {
        Task t = task(r.getId());
        PidsResponse.Builder b = PidsResponse.newBuilder();
        Map<Integer, String> execs = t.execPids();
        for (int pid : t.pids()) {
            ProcessInfo.Builder p = ProcessInfo.newBuilder().setPid(pid);
            // As containerd's runc shim: an exec process's pid carries its exec id.
            String execId = execs.get(pid);
            if (execId != null) {
                p.setInfo(any(io.urunc.proto.types.runc.ProcessDetails.newBuilder().setExecId(execId).build()));
            }
            b.addProcesses(p);
        }
        return b.build();
    }

    private ConnectResponse connect(ConnectRequest r) throws TtrpcException {
        Task t = tasks.get(r.getId());
        return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid())
                .setTaskPid(t == null ? 0 : t.pid()).setVersion("urunc-java 0.1.0").build();
    }

    private StatsResponse stats(StatsRequest r) throws TtrpcException {
        Task t = task(r.getId());
        Optional<Cgroup> cg = t.cgroup();
        if (cg.isEmpty()) {
            throw TtrpcException.failedPrecondition("task " + t.id() + " has no cgroup to report statistics from");
        }
        return StatsResponse.newBuilder().setStats(CgroupStats.metrics(cg.get())).build();
    }

    private Empty update(UpdateTaskRequest r) throws TtrpcException {
        task(r.getId());
        if (r.hasResources()) {
            throw TtrpcException.failedPrecondition("updating the resources of a running unikernel is not supported:"
                    + " its memory and vCPUs are fixed when the VM boots");
        }
        return Empty.getDefaultInstance();
    }

    /** Kills and deletes every task: the daemon is going away. */
    public void deleteAll() {
        for (Task t : tasks.values()) {
            try {
                if (t.exitStatus().isEmpty()) t.kill(io.urunc.sys.Libc.SIGKILL, true);
                t.exitFuture().get(5, java.util.concurrent.TimeUnit.SECONDS);
                t.delete();
            } catch (Exception e) {
                LOG.log(Level.WARNING, "task {0}: cleanup at exit: {1}", t.id(), e.getMessage());
            }
        }
        tasks.clear();
    }

    static Any any(com.google.protobuf.Message m) {
        return Any.newBuilder().setTypeUrl(m.getDescriptorForType().getFullName()).setValue(m.toByteString()).build();
    }
}
