package io.urunc.shim.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.proto.task.ExecProcessRequest;
import io.urunc.shim.io.TaskIo;
import io.urunc.shim.task.ExecProcess;
import io.urunc.shim.task.ExitStatus;
import io.urunc.shim.task.TaskEvents;
import io.urunc.shim.task.TaskLifecycle;
import io.urunc.shim.task.Transition;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;
import io.urunc.ttrpc.TtrpcException;

import java.lang.System.Logger.Level;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * An exec process of a runc container, as containerd's runc shim runs one: the OCI Process from the Exec request
 * goes to {@code runc exec --detach --pid-file}, with the request's FIFOs as its stdio, or a pty received over
 * {@code --console-socket} and copied to them. runc exits at once and leaves the process to us (the subreaper): it is
 * held through a pidfd, reaped by its own waiter, and its exit reported as TaskExit with its exec id.
 */
final class RuncExec implements ExecProcess {
    private static final System.Logger LOG = System.getLogger(RuncExec.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MASTER_LIMIT = Duration.ofSeconds(5);
    /** What a process that never ran reports, as containerd does for a lost process. */
    private static final int NEVER_RAN = 255;

    private final String containerId;
    private final String execId;
    private final RuncCommands runc;
    private final OrphanReaper reaper;
    private final BooleanSupplier initRunning;
    private final TaskIo io;
    private final boolean terminal;
    private final byte[] spec;
    /** runDir files of this process: x{seq}.json (its spec for runc), .pid, .sock (exec ids may be long). */
    private final Path processFile, pidFile, consoleSocket;
    private final TaskLifecycle life;
    private volatile ContainerProcess process;
    private volatile ConsoleCopy console;
    /**
     * Our end of the stdin FIFO lives until the process (or its console copy) has its own: runc opens it by its
     * /proc/self/fd path at Start, so a CloseIO before Start must not take that fd away. Then we drop it, as the runc
     * shim's stdin copy ends at the client's close: the process sees EOF when the client closes its end, whether or not
     * a CloseIO follows (ctr sends none when its stdin ends before Exec has returned).
     */
    private final Object stdinLock = new Object();
    private boolean stdinHandedOver;

    private RuncExec(String containerId, ExecProcessRequest r, byte[] spec, TaskIo io, RuncCommands runc,
                     OrphanReaper reaper, BooleanSupplier initRunning, Path runDir, int seq, TaskEvents events) {
        this.containerId = containerId;
        this.execId = r.getExecId();
        this.runc = runc;
        this.reaper = reaper;
        this.initRunning = initRunning;
        this.io = io;
        this.terminal = r.getTerminal();
        this.spec = spec;
        this.processFile = runDir.resolve("x" + seq + ".json");
        this.pidFile = runDir.resolve("x" + seq + ".pid");
        this.consoleSocket = runDir.resolve("x" + seq + ".sock");
        this.life = TaskLifecycle.ofExec(containerId, execId, events);
    }

    /** Checks the request and opens its stdio; nothing runs until {@link #start}. */
    static RuncExec create(String containerId, ExecProcessRequest r, RuncCommands runc, OrphanReaper reaper,
                           BooleanSupplier initRunning, Path runDir, int seq, TaskEvents events) throws TtrpcException {
        byte[] spec = checkedSpec(containerId, r);
        TaskIo io;
        try {
            io = TaskIo.open(r.getStdin(), r.getStdout(), r.getStderr());
        } catch (IOException e) {
            throw TtrpcException.invalidArgument(name(containerId, r.getExecId()) + ": stdio: " + e.getMessage());
        }
        return new RuncExec(containerId, r, spec, io, runc, reaper, initRunning, runDir, seq, events);
    }

    /** The request's spec: a JSON OCI Process whose {@code terminal} agrees with the request's. */
    static byte[] checkedSpec(String containerId, ExecProcessRequest r) throws TtrpcException {
        String name = name(containerId, r.getExecId());
        byte[] spec = r.getSpec().getValue().toByteArray();
        JsonNode node;
        try {
            node = JSON.readTree(spec);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw TtrpcException.invalidArgument(name + ": its spec is not a JSON OCI process: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw TtrpcException.invalidArgument(name + ": its spec is not readable: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw TtrpcException.invalidArgument(name + ": its spec is not a JSON OCI process (an object)");
        }
        boolean specTerminal = node.path("terminal").asBoolean(false);
        if (specTerminal != r.getTerminal()) {
            throw TtrpcException.invalidArgument(name + ": the request says terminal=" + r.getTerminal()
                    + " but its process spec says terminal=" + specTerminal);
        }
        return spec;
    }

    private static String name(String containerId, String execId) {
        return "exec process " + execId + " of task " + containerId;
    }

    @Override
    public String execId() {
        return execId;
    }

    @Override
    public TaskLifecycle lifecycle() {
        return life;
    }

    @Override
    public TaskIo io() {
        return io;
    }

    @Override
    public int pid() {
        ContainerProcess p = process;
        return p == null ? 0 : p.pid();
    }

    @Override
    public boolean terminal() {
        return terminal;
    }

    @Override
    public int start() throws TtrpcException {
        if (!initRunning.getAsBoolean()) {
            throw TtrpcException.failedPrecondition("cannot start " + name(containerId, execId)
                    + ": the container's init process is not running");
        }
        life.apply(Transition.START);
        Optional<ConsoleSocket> socket = Optional.empty();
        ContainerProcess p;
        try {
            Files.write(processFile, spec);
            if (terminal) socket = Optional.of(ConsoleSocket.listen(consoleSocket));
            // Without a terminal, runc hands its own stdio (the FIFOs) to the process.
            Runc.Stdio stdio = terminal ? Runc.PIPES
                    : new Runc.Stdio(io.stdinRedirect(), io.stdoutRedirect(), io.stderrRedirect());
            Optional<Path> socketPath = socket.map(ConsoleSocket::path);
            synchronized (stdinLock) {
                p = reaper.claiming(() -> {
                    Runc.run(runc.exec(containerId, processFile, pidFile, socketPath), runc.logFile(), stdio);
                    int pid = RuncTasks.readPid(pidFile);
                    ContainerProcess cp = ContainerProcess.watch(pid, containerId + "-" + execId);
                    reaper.claim(pid);
                    return cp;
                });
            }
        } catch (Exception e) {
            handOverStdin();
            socket.ifPresent(ConsoleSocket::close);
            removeFiles();
            // Nothing will write to the FIFOs: the client reads runc's error from stderr, then EOF.
            io.closeOutputs();
            life.endWithoutExit(NEVER_RAN);
            if (e instanceof RuncException) {
                throw TtrpcException.failedPrecondition(name(containerId, execId) + ": " + e.getMessage());
            }
            throw TtrpcException.internal(name(containerId, execId) + ": " + e.getMessage());
        }
        process = p;
        String problem = null;
        if (socket.isPresent()) {
            try {
                synchronized (stdinLock) {
                    console = ConsoleCopy.start(socket.get().awaitMaster(MASTER_LIMIT), io, "exec-" + execId);
                }
            } catch (IOException e) {
                problem = e.getMessage();
                signalQuietly(p, Libc.SIGKILL);
            } finally {
                socket.get().close();
            }
        }
        handOverStdin();
        removeFiles();
        p.exit().thenAccept(code -> exited(p, code));
        if (problem != null) {
            life.startAbandoned();
            throw TtrpcException.internal(name(containerId, execId) + ": terminal: " + problem);
        }
        life.started(p.pid());
        return p.pid();
    }

    private void exited(ContainerProcess p, int code) {
        LOG.log(Level.INFO, "task {0}: exec process {1} ({2}) exited with {3}", containerId, execId, p.pid(), code);
        reaper.release(p.pid());
        ConsoleCopy c = console;
        // What it wrote to its terminal reaches stdout before anyone hears it has exited.
        if (c != null) c.awaitOutput(Duration.ofSeconds(2));
        io.closeOutputs();
        life.exited(p.pid(), code);
    }

    /** Before Start there is nothing to do: our end goes once the process has its own. */
    @Override
    public void closeStdin() {
        synchronized (stdinLock) {
            if (stdinHandedOver) io.closeStdin();
        }
    }

    private void handOverStdin() {
        synchronized (stdinLock) {
            stdinHandedOver = true;
            io.closeStdin();
        }
    }

    /** A signal to the process itself (through its pidfd), as containerd's runc shim sends one to an exec's pid. */
    @Override
    public void kill(int signal) throws TtrpcException {
        life.requireNotFinished();
        ContainerProcess p = process;
        if (p == null) throw TtrpcException.failedPrecondition(name(containerId, execId) + " is not started");
        try {
            p.signal(signal);
        } catch (SysException e) {
            throw TtrpcException.internal("kill " + name(containerId, execId) + ": " + e.getMessage());
        }
    }

    @Override
    public void resizePty(int width, int height) throws TtrpcException {
        ConsoleCopy c = console;
        if (c == null || life.finished()) return;
        try {
            c.resize(width, height);
        } catch (IOException e) {
            throw TtrpcException.internal(name(containerId, execId) + ": " + e.getMessage());
        }
    }

    /** Delete: only once it has stopped or if it never started. */
    @Override
    public ExitStatus delete() throws TtrpcException {
        life.apply(Transition.DELETE);
        // One that never started reports 0, as containerd's runc shim does.
        ExitStatus status = life.exitStatus().orElse(new ExitStatus(0, Instant.now()));
        release();
        return status;
    }

    /** Closes its stdio and terminal; also what its container's delete does to it, in whatever state. */
    void release() {
        life.endWithoutExit(NEVER_RAN);
        ConsoleCopy c = console;
        if (c != null) {
            c.awaitOutput(Duration.ofSeconds(2));
            c.close();
        }
        io.close();
        removeFiles();
    }

    private void removeFiles() {
        for (Path f : new Path[] {processFile, pidFile}) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "cannot remove {0}: {1}", f, e.getMessage());
            }
        }
    }

    private static void signalQuietly(ContainerProcess p, int signal) {
        try {
            p.signal(signal);
        } catch (SysException e) {
            LOG.log(Level.DEBUG, "signal {0} to {1}: {2}", signal, p.pid(), e.getMessage());
        }
    }
}
