package io.urunc.shim.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.proto.task.ExecProcessRequest;
import io.urunc.shim.io.TaskIo;
import io.urunc.shim.task.Cleanup;
import io.urunc.shim.task.ExecProcess;
import io.urunc.shim.task.ExitStatus;
import io.urunc.shim.task.Task;
import io.urunc.shim.task.TaskEvents;
import io.urunc.shim.task.TaskLifecycle;
import io.urunc.shim.task.TaskState;
import io.urunc.shim.task.Transition;
import io.urunc.shim.vm.Cgroup;
import io.urunc.ttrpc.TtrpcException;
import java.lang.System.Logger.Level;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An ordinary container (a Kubernetes pause container, a sidecar) run by runc, as containerd's runc shim
 * runs a container's init: {@code runc create} at Create, {@code runc start} at Start. Same lifecycle and
 * events as a unikernel task, through the shared {@link TaskLifecycle}; its exec processes ({@link RuncExec}) each
 * have their own, and end with it.
 */
public final class RuncTask implements Task {
    private static final System.Logger LOG = System.getLogger(RuncTask.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@link RuncTasks} prepared: the created container and everything to undo for it. */
    record Setup(String id, Path bundle, Path runDir, RuncCommands runc, TaskIo io, boolean terminal,
                 boolean ownPidNamespace, Optional<Cgroup> cgroup, Optional<ConsoleCopy> console, Cleanup cleanup,
                 OrphanReaper reaper) {}

    /** How long the init's exit waits for the exits of its exec processes, which the kernel or runc ends with it. */
    private static final Duration EXEC_EXITS_LIMIT = Duration.ofSeconds(5);

    private final Setup setup;
    private final ContainerProcess init;
    private final TaskLifecycle life;
    private final TaskEvents events;
    private final Map<String, RuncExec> execs = new ConcurrentHashMap<>();
    private final AtomicInteger execSeq = new AtomicInteger();

    RuncTask(Setup setup, ContainerProcess init, TaskEvents events) {
        this.setup = setup;
        this.init = init;
        this.events = events;
        this.life = new TaskLifecycle(setup.id(), events);
        init.exit().thenAccept(this::onInitExit);
    }

    @Override
    public TaskLifecycle lifecycle() {
        return life;
    }

    @Override
    public TaskIo io() {
        return setup.io();
    }

    @Override
    public String id() {
        return setup.id();
    }

    @Override
    public Path bundle() {
        return setup.bundle();
    }


    @Override
    public int pid() {
        return init.pid();
    }




    @Override
    public boolean terminal() {
        return setup.terminal();
    }



    @Override
    public Optional<Cgroup> cgroup() {
        return setup.cgroup();
    }

    @Override
    public int start() throws TtrpcException {
        life.apply(Transition.START);
        try {
            run(setup.runc().start(id()));
        } catch (TtrpcException e) {
            life.startAbandoned();
            Runc.quietly(setup.runc().kill(id(), io.urunc.sys.Libc.SIGKILL, false), setup.runc().logFile());
            throw e;
        }
        life.started(pid());
        return pid();
    }

    private void onInitExit(int code) {
        LOG.log(Level.INFO, "task {0}: container init {1} exited with {2}", id(), pid(), code);
        if (!setup.ownPidNamespace()) {
            // Without its own pid namespace nothing stops the init's children: end them as the runc shim does.
            Runc.quietly(setup.runc().kill(id(), io.urunc.sys.Libc.SIGKILL, true), setup.runc().logFile());
        }
        setup.reaper().release(pid());
        setup.reaper().sweep();
        // What the container wrote to its terminal reaches stdout before anyone hears it has exited.
        setup.console().ifPresent(c -> c.awaitOutput(Duration.ofSeconds(2)));
        setup.io().closeOutputs();
        awaitExecExits();
        life.exited(pid(), code);
    }

    /**
     * The init's TaskExit is the container's last, as containerd's runc shim has it: the exec processes die with the
     * init (its pid namespace ends, or runc killed them above), and their exits go out first.
     */
    private void awaitExecExits() {
        List<CompletableFuture<Void>> pending = execs.values().stream()
                .filter(e -> e.lifecycle().state() == TaskState.RUNNING)
                .map(e -> e.lifecycle().exitPublished()).toList();
        if (pending.isEmpty()) return;
        try {
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                    .get(EXEC_EXITS_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "task {0}: exec processes still running {1} after the init exited", id(), EXEC_EXITS_LIMIT);
        }
    }

    @Override
    public ExecProcess addExec(ExecProcessRequest request) throws TtrpcException {
        String execId = request.getExecId();
        if (life.finished()) {
            throw TtrpcException.failedPrecondition("cannot exec in task " + id() + ": it is stopped");
        }
        if (execs.containsKey(execId)) {
            throw TtrpcException.alreadyExists("exec process " + execId + " of task " + id() + " already exists");
        }
        RuncExec exec = RuncExec.create(id(), request, setup.runc(), setup.reaper(),
                () -> init.alive() && !life.finished(), setup.runDir(), execSeq.incrementAndGet(), events);
        if (execs.putIfAbsent(execId, exec) != null) {
            exec.release();
            throw TtrpcException.alreadyExists("exec process " + execId + " of task " + id() + " already exists");
        }
        return new Handle(exec);
    }

    @Override
    public ExecProcess exec(String execId) throws TtrpcException {
        RuncExec e = execs.get(execId);
        if (e == null) throw TtrpcException.notFound("process " + execId + " of task " + id() + " not found");
        return new Handle(e);
    }

    @Override
    public Map<Integer, String> execPids() {
        Map<Integer, String> pids = new java.util.HashMap<>();
        for (RuncExec e : execs.values()) {
            if (e.pid() != 0 && !e.lifecycle().finished()) pids.put(e.pid(), e.execId());
        }
        return pids;
    }

    /** An exec process as the Task service holds it: its Delete also removes it from this task. */
    private final class Handle implements ExecProcess {
        private final RuncExec e;

        Handle(RuncExec e) {
            this.e = e;
        }

        @Override
        public String execId() {
            return e.execId();
        }

        @Override
        public TaskLifecycle lifecycle() {
            return e.lifecycle();
        }

        @Override
        public TaskIo io() {
            return e.io();
        }

        @Override
        public int pid() {
            return e.pid();
        }

        @Override
        public boolean terminal() {
            return e.terminal();
        }

        @Override
        public int start() throws TtrpcException {
            return e.start();
        }

        @Override
        public void kill(int signal) throws TtrpcException {
            e.kill(signal);
        }

        @Override
        public void closeStdin() {
            e.closeStdin();
        }

        @Override
        public void resizePty(int width, int height) throws TtrpcException {
            e.resizePty(width, height);
        }

        @Override
        public ExitStatus delete() throws TtrpcException {
            ExitStatus s = e.delete();
            execs.remove(e.execId(), e);
            return s;
        }
    }

    @Override
    public void resizePty(int width, int height) throws TtrpcException {
        if (setup.console().isEmpty() || life.finished()) return;
        try {
            setup.console().get().resize(width, height);
        } catch (IOException e) {
            throw TtrpcException.internal("task " + id() + ": " + e.getMessage());
        }
    }

    @Override
    public void kill(int signal, boolean all) throws TtrpcException {
        life.requireNotFinished();
        try {
            run(setup.runc().kill(id(), signal, all));
        } catch (TtrpcException e) {
            // The init may have ended while runc looked: that is the usual answer, not runc's.
            if (life.finished() || life.awaitExit(200)) throw TtrpcException.notFound("process already finished");
            throw e;
        }
    }

    @Override
    public void pause() throws TtrpcException {
        life.pause(() -> run(setup.runc().pause(id())));
    }

    @Override
    public void resume() throws TtrpcException {
        life.resume(() -> run(setup.runc().resume(id())));
    }

    /** Only a created or stopped task: {@code runc delete --force}, then everything set up for it is released. */
    @Override
    public ExitStatus delete() throws TtrpcException {
        life.apply(Transition.DELETE);
        try {
            run(setup.runc().delete(id(), true));
        } catch (TtrpcException e) {
            LOG.log(Level.WARNING, "task {0}: {1}", id(), e.getMessage());
        }
        if (!life.awaitExit(5000)) LOG.log(Level.WARNING, "task {0}: init {1} did not end after runc delete", id(), pid());
        for (RuncExec e : execs.values()) {
            // runc delete --force ended them with the container; their stdio goes with it.
            if (!e.lifecycle().awaitExit(2000)) LOG.log(Level.WARNING, "task {0}: exec process {1} did not end", id(), e.execId());
            e.release();
        }
        execs.clear();
        setup.reaper().sweep();
        setup.cleanup().close();
        return life.exitStatus().orElse(new ExitStatus(128 + io.urunc.sys.Libc.SIGKILL, Instant.now()));
    }


    /** The container's processes as runc sees them (host pids); none once the task has stopped. */
    @Override
    public List<Integer> pids() throws TtrpcException {
        if (life.finished()) return List.of();
        String out = run(setup.runc().ps(id()));
        try {
            return parsePids(out);
        } catch (IOException e) {
            throw TtrpcException.internal("runc ps: unexpected output: " + e.getMessage());
        }
    }

    static List<Integer> parsePids(String json) throws IOException {
        JsonNode node = JSON.readTree(json.isBlank() ? "[]" : json);
        if (node == null || node.isNull()) return List.of();
        if (!node.isArray()) throw new IOException("expected a JSON array of pids: " + json.strip());
        List<Integer> pids = new ArrayList<>();
        for (JsonNode n : node) {
            if (!n.canConvertToInt()) throw new IOException("not a pid: " + n);
            pids.add(n.asInt());
        }
        return List.copyOf(pids);
    }

    private String run(List<String> argv) throws TtrpcException {
        try {
            return Runc.run(argv, setup.runc().logFile());
        } catch (RuncException e) {
            throw TtrpcException.failedPrecondition("task " + id() + ": " + e.getMessage());
        }
    }
}
