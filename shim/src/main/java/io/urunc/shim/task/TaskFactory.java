package io.urunc.shim.task;

import io.urunc.image.InvalidMetadataException;
import io.urunc.image.MetadataResolver;
import io.urunc.image.UnikernelMetadata;
import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.proto.types.Mount;
import io.urunc.network.AttachOptions;
import io.urunc.network.NetnsExecutor;
import io.urunc.network.NetworkAttachment;
import io.urunc.network.NetworkException;
import io.urunc.network.UnikernelNetwork;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.netns.OciHooks;
import io.urunc.shim.netns.OwnNetworkNamespace;
import io.urunc.shim.bundle.BundleException;
import io.urunc.shim.config.MonitorConfig;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.Cgroup;
import io.urunc.shim.vm.VmNamespaces;
import io.urunc.shim.vm.VmProcess;
import io.urunc.storage.MountSpec;
import io.urunc.storage.MountedRootfs;
import io.urunc.storage.RootfsMount;
import io.urunc.storage.RootfsPaths;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.Accelerator;
import io.urunc.vmm.AcceleratorDetector;
import io.urunc.vmm.AcceleratorUnavailableException;
import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.Hypervisors;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.UnikernelType;
import io.urunc.vmm.UnikernelTypes;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.VmmException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a Create request into a prepared task: bundle, rootfs, unikernel metadata, VMM launch plan.
 * Anything it sets up is registered in the task's {@link Cleanup} the moment it exists, so a failure
 * half-way leaves nothing behind.
 */
public final class TaskFactory {
    private final ShimConfig config;
    private final String namespace;
    private final MetadataResolver metadata;
    private final TaskStore store;
    private final Map<String, Accelerator> accelerators = new ConcurrentHashMap<>();
    private final TaskSetup.ControlConnector controlConnector;
    private final DelegateTasks delegate;

    public TaskFactory(ShimConfig config, String namespace, MetadataResolver metadata, TaskStore store,
                       TaskSetup.ControlConnector controlConnector, DelegateTasks delegate) {
        this.config = config;
        this.namespace = namespace;
        this.metadata = metadata;
        this.store = store;
        this.controlConnector = controlConnector;
        this.delegate = delegate;
    }

    /** A created task: a unikernel with its VMM launched (held until Start), or a delegated container. */
    public Task create(CreateTaskRequest req, TaskEvents events) throws TtrpcException {
        String id = req.getId();
        if (id.isEmpty() || id.contains("/") || id.equals(".") || id.equals("..")) {
            throw TtrpcException.invalidArgument("invalid task id \"" + id + "\"");
        }
        Cleanup cleanup = new Cleanup();
        try {
            return create(req, id, cleanup, events);
        } catch (TtrpcException | RuntimeException e) {
            cleanup.close();
            throw e;
        }
    }

    private Task create(CreateTaskRequest req, String id, Cleanup cleanup, TaskEvents events) throws TtrpcException {
        Bundle bundle;
        try {
            bundle = Bundle.load(Path.of(req.getBundle()));
        } catch (BundleException e) {
            throw TtrpcException.invalidArgument("task " + id + ": bad bundle: " + e.getMessage());
        }
        Path runDir = runDir(id);
        TaskRecord[] record = {new TaskRecord(id, namespace, req.getBundle(), 0, "", runDir.toString(),
                bundle.cgroupsPath().orElse(""), "", "", "")};
        store.save(record[0]);
        cleanup.push("task record", () -> store.remove(namespace, id));
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw TtrpcException.internal("cannot create " + runDir + ": " + e.getMessage());
        }
        cleanup.push("run dir " + runDir, () -> deleteTree(runDir));

        Path rootfs = bundle.rootfs();
        List<MountSpec> mounts = new ArrayList<>();
        for (Mount m : req.getRootfsList()) {
            mounts.add(new MountSpec(m.getType(), m.getSource(), m.getTarget(), List.copyOf(m.getOptionsList())));
        }
        try {
            MountedRootfs mounted = RootfsMount.mount(mounts, rootfs);
            if (!mounts.isEmpty()) {
                record[0] = new TaskRecord(id, namespace, req.getBundle(), 0, rootfs.toString(), runDir.toString(),
                        bundle.cgroupsPath().orElse(""), "", "", "");
                store.save(record[0]);
            }
            cleanup.push("rootfs mount " + rootfs, mounted::close);
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": cannot mount rootfs: " + e.getMessage());
        }

        Optional<UnikernelMetadata> found = resolveMetadata(bundle, rootfs, id);
        if (found.isEmpty()) {
            if (delegate == null) {
                throw TtrpcException.failedPrecondition("task " + id + ": not a unikernel image: no"
                        + " com.urunc.unikernel.* annotations, image labels or /urunc.json were found, and"
                        + " delegation of ordinary containers to runc is disabled");
            }
            store.remove(namespace, id);
            return delegate.create(req, bundle, runDir, cleanup, events);
        }
        UnikernelMetadata md = found.get();
        Hypervisor hypervisor = hypervisor(md);
        UnikernelType type = unikernelType(md, hypervisor);
        MonitorConfig monitor = config.monitor(hypervisor.name());
        Path binary = hypervisorBinary(hypervisor, monitor);
        Path kernel = insideRootfs(rootfs, md.binary(), "com.urunc.unikernel.binary");
        Optional<Path> initrd = md.initrd().isPresent()
                ? Optional.of(insideRootfs(rootfs, md.initrd().get(), "com.urunc.unikernel.initrd"))
                : Optional.empty();

        Optional<Path> netns = bundle.networkNamespace();
        if (netns.isEmpty() && bundle.newNetworkNamespace() && !bundle.prestartHooks().isEmpty()) {
            netns = Optional.of(createNetworkWithHooks(bundle, id, runDir, cleanup));
            store.save(record[0] = record[0].withOwnNetns(netns.get().toString()));
        }
        Optional<NetworkAttachment> network = attachNetwork(netns, bundle, rootfs, id, cleanup);
        if (network.isPresent() && network.get().hasTap()) {
            store.save(record[0] = record[0].withTap(network.get().netns().toString(), network.get().tapName()));
        }
        Optional<GuestNetwork> guestNet = network.flatMap(NetworkAttachment::guest)
                .map(g -> new GuestNetwork(g.ipv4(), g.prefixLength(), g.gateway(), g.mac(), g.dns()));
        Optional<NetAttachment> nic = network.filter(NetworkAttachment::hasTap)
                .flatMap(a -> a.guest().map(g -> new NetAttachment(a.tapName(), g.mac())));
        VmProcess.NamespaceEntry namespaces = VmNamespaces.of(bundle.namespaces(), netns);

        List<String> args = MetadataResolver.appArgs(md, bundle.args());
        GuestSpec guest = new GuestSpec(args, guestEnv(bundle), guestNet,
                initrd.isPresent() ? RootKind.INITRD : RootKind.NONE, md.unikernelVersion().orElse(null));
        Accelerator accelerator = accelerator(hypervisor, monitor, binary);
        String cmdline;
        List<String> extra;
        try {
            cmdline = type.kernelCmdline(guest, hypervisor.name(), accelerator);
            extra = type.extraVmmArgs(hypervisor.name(), guest);
        } catch (RuntimeException e) {
            throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage());
        }
        VmConfig vm = new VmConfig(id, binary, kernel, initrd, cmdline, resources(bundle, monitor),
                accelerator, nic, List.of(), extra, runDir,
                monitor.seccomp()).withHints(type.deviceHints());
        LaunchPlan plan;
        try {
            plan = holdUntilStart(hypervisor.plan(vm));
        } catch (VmmException e) {
            throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage());
        }

        TaskIo io = openStdio(req, cleanup);

        Optional<Cgroup> cgroup = bundle.cgroupsPath().flatMap(Cgroup::create);
        cgroup.ifPresent(c -> cleanup.push("cgroup", c::delete));

        TaskSetup setup = new TaskSetup(id, namespace, Path.of(req.getBundle()), req.getTerminal(), hypervisor, plan, io,
                cgroup, namespaces, cleanup,
                pid -> store.save(record[0] = record[0].withPid(pid)), controlConnector);
        UnikernelTask task = new UnikernelTask(setup, events, config.killGrace());
        task.launch();
        return task;
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

    /**
     * With a network namespace path in the spec (CNI, docker, ctr --with-ns), the VM takes over the
     * container's interface through a tap; without one the VM has no NIC, like a container with only lo.
     */
    private static Optional<NetworkAttachment> attachNetwork(Optional<Path> netnsPath, Bundle bundle, Path rootfs,
                                                             String id, Cleanup cleanup) throws TtrpcException {
        if (netnsPath.isEmpty()) return Optional.empty();
        Path netns = netnsPath.get();
        AttachOptions options = AttachOptions.defaults();
        Optional<Path> resolvConf = bundle.resolvConfMount().or(() -> {
            try {
                return Optional.of(RootfsPaths.resolveRegularFile(rootfs, "/etc/resolv.conf"));
            } catch (IOException e) {
                return Optional.empty();
            }
        });
        if (resolvConf.isPresent()) options = options.withResolvConf(resolvConf.get());
        try {
            NetworkAttachment a = UnikernelNetwork.attach(netns, id, options);
            cleanup.push("network " + a.mode() + " " + a.tapName(), () -> UnikernelNetwork.detach(a));
            return Optional.of(a);
        } catch (NetworkException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": network: " + e.getMessage());
        }
    }

    /**
     * A spec that asks for a new network namespace and has hooks to set it up (docker's libnetwork-setkey
     * moves the container's veth in and configures it): create the namespace as runc would, run the hooks
     * with a process inside it as the state's pid, then the VM takes over what the hooks configured.
     */
    private Path createNetworkWithHooks(Bundle bundle, String id, Path runDir, Cleanup cleanup) throws TtrpcException {
        Path file = config.stateDir().resolve("netns").resolve(runDir.getFileName());
        try {
            OwnNetworkNamespace.create(file);
        } catch (IOException e) {
            throw TtrpcException.internal("task " + id + ": " + e.getMessage());
        }
        cleanup.push("network namespace " + file, () -> OwnNetworkNamespace.remove(file));
        Process holder = null;
        try {
            holder = NetnsExecutor.callIn(file, () -> new ProcessBuilder("sleep", "300")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
            OciHooks.run(bundle.prestartHooks(), OciHooks.state(id, holder.pid(), bundle.dir(), bundle.annotations()));
        } catch (Exception e) {
            throw TtrpcException.failedPrecondition("task " + id + ": " + e.getMessage());
        } finally {
            if (holder != null) holder.destroyForcibly();
        }
        return file;
    }


    /** QEMU is started with -S: the VMM is up at Create, the guest runs at Start. */
    private static LaunchPlan holdUntilStart(LaunchPlan plan) {
        if (plan.controlSocket().isEmpty()) return plan;
        List<String> argv = new ArrayList<>(plan.argv());
        argv.add(1, "-S");
        return new LaunchPlan(List.copyOf(argv), plan.filesToWrite(), plan.controlSocket());
    }

    private Optional<UnikernelMetadata> resolveMetadata(Bundle bundle, Path rootfs, String id) throws TtrpcException {
        try {
            return metadata.resolve(bundle.annotations(), rootfs, namespace, id);
        } catch (InvalidMetadataException e) {
            throw TtrpcException.invalidArgument("task " + id + ": invalid unikernel metadata: " + e.getMessage());
        }
    }

    private static Hypervisor hypervisor(UnikernelMetadata md) throws TtrpcException {
        try {
            return Hypervisors.byName(md.hypervisor());
        } catch (VmmException e) {
            throw TtrpcException.invalidArgument("com.urunc.unikernel.hypervisor: " + e.getMessage());
        }
    }

    private static UnikernelType unikernelType(UnikernelMetadata md, Hypervisor hv) throws TtrpcException {
        UnikernelType type;
        try {
            type = UnikernelTypes.byName(md.unikernelType());
        } catch (VmmException e) {
            throw TtrpcException.invalidArgument("com.urunc.unikernel.unikernelType: " + e.getMessage());
        }
        if (!type.hypervisors().contains(hv.name())) {
            throw TtrpcException.invalidArgument("unikernel type " + type.name() + " cannot run on hypervisor "
                    + hv.name() + " (it runs on " + String.join(", ", type.hypervisors()) + ")");
        }
        return type;
    }

    private static Path hypervisorBinary(Hypervisor hv, MonitorConfig monitor) throws TtrpcException {
        Path p = Path.of(monitor.path().orElse(hv.defaultBinary()));
        if (!p.isAbsolute()) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                Path candidate = Path.of(dir).resolve(p);
                if (Files.isExecutable(candidate)) return candidate;
            }
        }
        if (!Files.isExecutable(p)) {
            throw TtrpcException.failedPrecondition("hypervisor " + hv.name() + ": " + p
                    + " is not installed or not executable (set [monitors." + hv.name() + "] path in the config)");
        }
        return p;
    }

    private static Path insideRootfs(Path rootfs, String path, String key) throws TtrpcException {
        try {
            return RootfsPaths.resolveRegularFile(rootfs, path);
        } catch (IOException e) {
            throw TtrpcException.invalidArgument(key + ": " + e.getMessage());
        }
    }

    private static VmResources resources(Bundle bundle, MonitorConfig monitor) {
        int memoryMb = bundle.memoryLimitBytes().map(b -> (int) Math.max(16, b >> 20)).orElse(monitor.defaultMemoryMb());
        int vcpus = bundle.cpus().map(c -> (int) Math.max(1, Math.ceil(c))).orElse(monitor.defaultVcpus());
        return new VmResources(memoryMb, vcpus);
    }

    private Accelerator accelerator(Hypervisor hv, MonitorConfig monitor, Path binary) throws TtrpcException {
        Accelerator requested = Accelerator.valueOf(monitor.accelerator().toUpperCase(Locale.ROOT));
        if (!hv.name().equals("qemu")) return requested == Accelerator.AUTO ? Accelerator.KVM : requested;
        try {
            return accelerators.computeIfAbsent(binary + "|" + requested,
                    k -> AcceleratorDetector.resolve(requested, binary));
        } catch (AcceleratorUnavailableException e) {
            throw TtrpcException.failedPrecondition("hypervisor qemu: " + e.getMessage());
        }
    }

    /** The container's environment minus what only makes sense to a Linux process tree on the host. */
    private static Map<String, String> guestEnv(Bundle bundle) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : bundle.env()) {
            int eq = kv.indexOf('=');
            if (eq <= 0) continue;
            String k = kv.substring(0, eq);
            if (k.equals("PATH") || k.equals("HOSTNAME") || k.equals("TERM") || k.equals("HOME")) continue;
            env.put(k, kv.substring(eq + 1));
        }
        return env;
    }

    private Path runDir(String id) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((namespace + "/" + id).getBytes(StandardCharsets.UTF_8));
            return config.stateDir().resolve("t").resolve(HexFormat.of().formatHex(h, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
