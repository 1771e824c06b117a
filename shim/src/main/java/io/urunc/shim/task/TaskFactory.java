package io.urunc.shim.task;

import io.urunc.image.InvalidMetadataException;
import io.urunc.image.MetadataResolver;
import io.urunc.image.UnikernelMetadata;
import io.urunc.network.GuestPort;
import io.urunc.network.NetworkAttachment;
import io.urunc.network.NetworkException;
import io.urunc.network.UnikernelNetwork;
import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.proto.types.Mount;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.bundle.BundleException;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.io.OwnerOnly;
import io.urunc.shim.io.TaskIo;
import io.urunc.shim.netns.OwnNetworkNamespace;
import io.urunc.shim.netns.TaskNetwork;
import io.urunc.shim.vm.Cgroup;
import io.urunc.shim.vm.CgroupMoveWarmUp;
import io.urunc.shim.vm.VmNamespaces;
import io.urunc.shim.vm.VmPlanner;
import io.urunc.shim.vm.VmProcess;
import io.urunc.storage.FileTrees;
import io.urunc.storage.MountSpec;
import io.urunc.storage.MountedRootfs;
import io.urunc.storage.RootfsMount;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.LaunchPlan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Turns a Create request into a prepared task: bundle, rootfs, unikernel metadata, VMM launch plan.
 * Anything it sets up is registered in the task's {@link Cleanup} the moment it exists, so a failure
 * half-way leaves nothing behind.
 */
public final class TaskFactory implements TaskCreator {
    private static final System.Logger LOG = System.getLogger(TaskFactory.class.getName());
    /**
     * Creates reading image metadata at once. One read holds at most ~6 MiB (a 4 MiB manifest as containerd streams
     * it, scanned; a 1 MiB urunc.json); a running task keeps under 50 KiB (DaemonContractIT), on a 7 MiB base. So the
     * daemon's 64 MiB heap holds 4 such reads beside some 700 running tasks.
     */
    private static final java.util.concurrent.Semaphore METADATA_READS = new java.util.concurrent.Semaphore(4);
    static final String DOCKER_NAMESPACE = "moby";

    private final ShimConfig config;
    private final String namespace;
    private final MetadataResolver metadata;
    private final TaskStore store;
    private final VmPlanner planner;
    private final TaskSetup.ControlConnector controlConnector;
    private final DelegateTasks delegate;

    public TaskFactory(ShimConfig config, String namespace, MetadataResolver metadata, TaskStore store,
                       TaskSetup.ControlConnector controlConnector, DelegateTasks delegate) {
        this.config = config;
        this.planner = new VmPlanner(config);
        this.namespace = namespace;
        this.metadata = metadata;
        this.store = store;
        this.controlConnector = controlConnector;
        this.delegate = delegate;
    }

    /** A created task: a unikernel with its VMM launched (held until Start), or a delegated container. */
    @Override
    public Task create(CreateTaskRequest req, TaskEvents events) throws TtrpcException {
        String id = req.getId();
        if (id.isEmpty() || id.contains("/") || id.equals(".") || id.equals("..")) {
            throw TtrpcException.invalidArgument("invalid task id \"" + id + "\"");
        }
        Cleanup cleanup = new Cleanup();
        boolean created = false;
        try {
            Task task = create(req, id, cleanup, events);
            created = true;
            return task;
        } finally {
            // whatever stopped Create (an error, an Error, an interrupt), nothing it set up stays
            if (!created) cleanup.close();
        }
    }

    private Task create(CreateTaskRequest req, String id, Cleanup cleanup, TaskEvents events) throws TtrpcException {
        PhaseClock clock = new PhaseClock();
        // the VMM joins its cgroup once it is planned: the kernel's wait for that move starts now, while the steps
        // up to the VMM's spawn run (those that fork, such as a network attach, wait for it as the spawn would).
        // Before the bundle is read: nearly every task has a cgroup (ctr, docker and CRI all give one).
        CgroupMoveWarmUp.start();
        // containerd's part of the metadata needs neither bundle nor rootfs: read while those are set up
        MetadataResolver.Prefetch containerdRead = metadata.prefetch(namespace, id, METADATA_READS);
        Bundle bundle;
        try {
            bundle = Bundle.load(Path.of(req.getBundle()));
        } catch (BundleException e) {
            throw TtrpcException.invalidArgument("task " + id + ": bad bundle: " + e.getMessage());
        }
        Path runDir = runDir(id);
        Path rootfs = bundle.rootfs();
        // the rootfs mount below is recorded before it exists (a crash right after it must not leave it unknown;
        // cleaning up after a crash before it unmounts only what is mounted)
        TaskRecord[] record = {TaskRecord.of(id, namespace, req.getBundle(), req.getRootfsCount() > 0 ? rootfs.toString() : "",
                runDir.toString(), bundle.cgroupsPath().orElse(""))};
        save(record[0]);
        cleanup.push("task record", () -> store.remove(namespace, id));
        try {
            OwnerOnly.directory(runDir);
        } catch (IOException e) {
            throw TtrpcException.internal("cannot create " + runDir + ": " + e.getMessage());
        }
        cleanup.push("run dir " + runDir, () -> FileTrees.delete(runDir));
        clock.mark("bundle+record+run dir");

        List<MountSpec> mounts = new ArrayList<>();
        for (Mount m : req.getRootfsList()) {
            mounts.add(new MountSpec(m.getType(), m.getSource(), m.getTarget(), List.copyOf(m.getOptionsList())));
        }
        MountedRootfs mounted;
        try {
            mounted = RootfsMount.mount(mounts, rootfs);
            cleanup.push("rootfs mount " + rootfs, mounted::close);
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": cannot mount rootfs: " + e.getMessage());
        }

        clock.mark("rootfs");
        Optional<UnikernelMetadata> found = resolveMetadata(bundle, rootfs, id, containerdRead);
        clock.mark("metadata");
        if (found.isEmpty()) {
            if (delegate == null) {
                throw TtrpcException.failedPrecondition("task " + id + ": not a unikernel image: no"
                        + " com.urunc.unikernel.* annotations, image labels or /urunc.json were found, and"
                        + " delegation of ordinary containers to runc is disabled");
            }
            store.remove(namespace, id);
            return delegate.create(req, bundle, runDir, cleanup, events);
        }
        VmPlanner.Target target = planner.resolve(found.get(), mounted);
        List<GuestPort> ports;
        try {
            ports = GuestPort.parseList(found.get().ports().orElse(""));
        } catch (IllegalArgumentException e) {
            throw TtrpcException.invalidArgument("task " + id + ": invalid unikernel metadata: "
                    + found.get().describe(io.urunc.image.Annotations.PORTS) + ": " + e.getMessage());
        }
        Optional<Path> dockerNetns = dockerConfiguresNetworkAfterCreate(bundle)
                ? Optional.of(createOwnNetns(id, runDir, record, cleanup)) : Optional.empty();
        Bundle spec = dockerNetns.map(bundle::withNetworkNamespace).orElse(bundle);
        VmLaunch.Preparation prepare = () -> {
            TaskNetwork.Setup network = TaskNetwork.prepare(spec, rootfs, id, ports,
                    config.stateDir().resolve("netns").resolve(runDir.getFileName()), cleanup);
            clock.mark("network");
            if (network.ownNetns()) save(record[0] = record[0].withOwnNetns(network.netns().orElseThrow().toString()));
            Optional<NetworkAttachment> tap = network.attachment().filter(NetworkAttachment::hasTap);
            if (tap.isPresent()) save(record[0] = record[0].withTap(tap.get().netns().toString(), tap.get().tapName()));
            LaunchPlan plan = planner.plan(id, target, spec, network.attachment(), runDir,
                    file -> cleanup.push("file held for the VMM", file::close));
            // planned again at Start, a rootfs the guest took is no longer there to copy the kernel from: keep the copies
            if (dockerNetns.isPresent() && VmPlanner.takesSnapshotAsDisk(target)) plan = plan.withBootFiles(List.of());
            clock.mark("plan");
            return new VmLaunch.Ready(plan, VmNamespaces.of(spec.namespaces(), network.netns()));
        };
        VmLaunch launch = dockerNetns.isPresent()
                ? VmLaunch.replannedAtStartIf(() -> configured(dockerNetns.get()), prepare) : VmLaunch.of(prepare);

        TaskIo io = openStdio(req, cleanup);

        Optional<Cgroup> cgroup = bundle.cgroupsPath().flatMap(Cgroup::create);
        cgroup.ifPresent(c -> cleanup.push("cgroup", c::delete));

        TaskSetup setup = new TaskSetup(id, namespace, Path.of(req.getBundle()), req.getTerminal(), target.hypervisor(),
                launch, io, cgroup, cleanup,
                vmm -> store.save(record[0] = record[0].withVmm(vmm)),
                backends -> store.save(record[0] = record[0].withBackends(backends)), controlConnector);
        clock.mark("stdio+cgroup");
        UnikernelTask task = new UnikernelTask(setup, events, config.killGrace());
        task.launch(clock);
        LOG.log(System.Logger.Level.DEBUG, "task {0} create: {1}", id, clock);
        return task;
    }

    /** Without its record on disk a task could not be cleaned up after a crash: so it is not created. */
    private void save(TaskRecord record) throws TtrpcException {
        try {
            store.save(record);
        } catch (IOException e) {
            throw TtrpcException.internal("task " + record.id() + ": cannot write its record: " + e.getMessage());
        }
    }

    /**
     * Docker (containerd namespace {@value #DOCKER_NAMESPACE}) from 26 on asks for a new network namespace without
     * hooks and moves the container's veth into {@code /proc/<pid>/ns/net} of the pid Create answered, before
     * Start. The namespace must outlive the VMM launched at Create, which is replaced at Start: the shim pins it.
     */
    private boolean dockerConfiguresNetworkAfterCreate(Bundle bundle) {
        return namespace.equals(DOCKER_NAMESPACE) && bundle.networkNamespace().isEmpty() && bundle.newNetworkNamespace()
                && bundle.prestartHooks().isEmpty();
    }

    private Path createOwnNetns(String id, Path runDir, TaskRecord[] record, Cleanup cleanup) throws TtrpcException {
        Path file = config.stateDir().resolve("netns").resolve(runDir.getFileName());
        try {
            OwnNetworkNamespace.create(file);
        } catch (IOException e) {
            throw TtrpcException.internal("task " + id + ": " + e.getMessage());
        }
        cleanup.push("network namespace " + file, () -> OwnNetworkNamespace.remove(file));
        save(record[0] = record[0].withOwnNetns(file.toString()));
        return file;
    }

    /** Whether an interface other than loopback in {@code netns} has an IPv4 address. */
    private static boolean configured(Path netns) {
        try {
            return UnikernelNetwork.hasAddressedInterface(netns);
        } catch (NetworkException e) {
            return false;
        }
    }

    /** The task's stdio FIFOs, closed by its cleanup; a bad path or URI is the caller's error. */
    public static TaskIo openStdio(CreateTaskRequest req, Cleanup cleanup) throws TtrpcException {
        TaskIo io;
        try {
            io = TaskIo.open(req.getStdin(), req.getStdout(), req.getStderr());
        } catch (IOException e) {
            throw TtrpcException.invalidArgument("task " + req.getId() + ": stdio: " + e.getMessage());
        }
        cleanup.push("stdio", io::close);
        return io;
    }



    private Optional<UnikernelMetadata> resolveMetadata(Bundle bundle, Path rootfs, String id,
                                                        MetadataResolver.Prefetch containerdRead) throws TtrpcException {
        try {
            return metadata.resolve(bundle.annotations(), rootfs, containerdRead);
        } catch (InvalidMetadataException e) {
            throw TtrpcException.invalidArgument("task " + id + ": invalid unikernel metadata: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TtrpcException(io.urunc.ttrpc.Code.CANCELLED, "task " + id + ": create cancelled");
        }
    }

    private Path runDir(String id) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((namespace + "/" + id).getBytes(StandardCharsets.UTF_8));
            return config.stateDir().resolve("t").resolve(HexFormat.of().formatHex(h, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}