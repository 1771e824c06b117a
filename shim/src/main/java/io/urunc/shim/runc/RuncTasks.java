package io.urunc.shim.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.io.TaskIo;
import io.urunc.shim.task.Cleanup;
import io.urunc.shim.task.DelegateTasks;
import io.urunc.shim.task.Task;
import io.urunc.shim.task.TaskFactory;
import io.urunc.shim.task.TaskEvents;
import io.urunc.shim.vm.Cgroup;
import io.urunc.ttrpc.TtrpcException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Creates {@link RuncTask}s for containers without unikernel metadata. runc keeps its state under the
 * shim's own state dir ({@code <stateDir>/runc/<namespace>}), never containerd's runc root.
 */
public final class RuncTasks implements DelegateTasks {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path stateDir;
    private final String namespace;
    private final Path runcBinary;
    private final OrphanReaper reaper = new OrphanReaper();

    public RuncTasks(ShimConfig config, String namespace) {
        this(config.stateDir(), namespace, RuncCommands.findRunc());
    }

    RuncTasks(Path stateDir, String namespace, Path runcBinary) {
        this.stateDir = stateDir;
        this.namespace = namespace;
        this.runcBinary = runcBinary;
    }

    @Override
    public Task create(CreateTaskRequest req, Bundle bundle, Path runDir, Cleanup cleanup, TaskEvents events)
            throws TtrpcException {
        String id = req.getId();
        try {
            return create(req, id, bundle, runDir, cleanup, events);
        } catch (TtrpcException | RuntimeException e) {
            cleanup.close();
            throw e;
        }
    }

    private Task create(CreateTaskRequest req, String id, Bundle bundle, Path runDir, Cleanup cleanup,
                        TaskEvents events) throws TtrpcException {
        if (!Files.isExecutable(runcBinary)) {
            throw TtrpcException.failedPrecondition("task " + id + ": not a unikernel image, and runc (" + runcBinary
                    + ") is not installed to run it as an ordinary container");
        }
        Path root = RuncCommands.rootFor(stateDir, namespace);
        boolean systemd = bundle.cgroupsPath().map(RuncCommands::isSystemdCgroupsPath).orElse(false);
        Path bundleDir = bundle.dir().toAbsolutePath();
        RuncCommands runc = new RuncCommands(runcBinary, root, bundleDir, systemd);

        TaskIo io = TaskFactory.openStdio(req, cleanup);

        RuncRecord record = new RuncRecord(id, namespace, root.toString(), bundleDir.toString(), systemd,
                req.getRootfsCount() > 0 ? bundle.rootfs().toString() : "", runDir.toString());
        try {
            Files.createDirectories(root);
            record.save(stateDir);
        } catch (IOException e) {
            throw TtrpcException.internal("task " + id + ": cannot record runc state: " + e.getMessage());
        }
        cleanup.push("runc record", () -> RuncRecord.remove(stateDir, namespace, id));
        cleanup.push("runc container " + id, () -> {
            if (Files.isDirectory(root.resolve(id))) {
                Runc.run(runc.delete(id, true), runc.logFile());
            }
        });

        Optional<ConsoleSocket> console = Optional.empty();
        if (req.getTerminal()) {
            try {
                console = Optional.of(ConsoleSocket.listen(runDir.resolve("console.sock")));
            } catch (IOException e) {
                throw TtrpcException.internal("task " + id + ": terminal: " + e.getMessage());
            }
            cleanup.push("console socket", console.get()::close);
        }
        // A terminal container's stdio is its pty; otherwise runc hands its own stdio (the FIFOs) to the init.
        Runc.Stdio stdio = console.isPresent() ? Runc.PIPES
                : new Runc.Stdio(io.stdinRedirect(), io.stdoutRedirect(), io.stderrRedirect());
        Optional<Path> consolePath = console.map(ConsoleSocket::path);

        ContainerProcess init;
        try {
            init = reaper.claiming(() -> {
                Runc.run(runc.create(id, consolePath), runc.logFile(), stdio);
                int pid = readPid(runc.pidFile());
                ContainerProcess p = ContainerProcess.watch(pid, id);
                reaper.claim(pid);
                return p;
            });
        } catch (RuncException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": " + e.getMessage());
        } catch (IOException e) {
            throw TtrpcException.internal("task " + id + ": container init: " + e.getMessage());
        } catch (Exception e) {
            throw TtrpcException.internal("task " + id + ": " + e);
        }

        Optional<ConsoleCopy> copy = Optional.empty();
        if (console.isPresent()) {
            try {
                copy = Optional.of(ConsoleCopy.start(console.get().awaitMaster(java.time.Duration.ofSeconds(5)), io, id));
            } catch (IOException e) {
                throw TtrpcException.internal("task " + id + ": terminal: " + e.getMessage());
            }
            cleanup.push("console copy", copy.get()::close);
            console.get().close();
        }

        Optional<Cgroup> cgroup = systemd ? Optional.empty() : bundle.cgroupsPath().flatMap(Cgroup::create);
        RuncTask.Setup setup = new RuncTask.Setup(id, bundleDir, runDir, runc, io, req.getTerminal(),
                ownPidNamespace(bundleDir), cgroup, copy, cleanup, reaper);
        return new RuncTask(setup, init, events);
    }

    static int readPid(Path pidFile) throws IOException {
        String s = Files.readString(pidFile).strip();
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IOException(pidFile + ": not a pid: \"" + s + "\"");
        }
    }

    /** Whether the spec gives the container a new pid namespace (a pid namespace without a path). */
    static boolean ownPidNamespace(Path bundleDir) {
        try {
            JsonNode spec = JSON.readTree(bundleDir.resolve("config.json").toFile());
            for (JsonNode ns : spec.path("linux").path("namespaces")) {
                if ("pid".equals(ns.path("type").asText()) && ns.path("path").asText("").isEmpty()) return true;
            }
        } catch (IOException e) {
            // treated as shared: the init's exit then ends every process of the container
        }
        return false;
    }
}
