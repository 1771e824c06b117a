package io.urunc.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.urunc.it.cri.api.ContainerConfig;
import io.urunc.it.cri.api.ContainerMetadata;
import io.urunc.it.cri.api.ContainerState;
import io.urunc.it.cri.api.ContainerStatus;
import io.urunc.it.cri.api.ContainerStatusRequest;
import io.urunc.it.cri.api.CreateContainerRequest;
import io.urunc.it.cri.api.ImageServiceGrpc;
import io.urunc.it.cri.api.ImageSpec;
import io.urunc.it.cri.api.LinuxPodSandboxConfig;
import io.urunc.it.cri.api.LinuxSandboxSecurityContext;
import io.urunc.it.cri.api.ListPodSandboxRequest;
import io.urunc.it.cri.api.NamespaceMode;
import io.urunc.it.cri.api.NamespaceOption;
import io.urunc.it.cri.api.PodSandbox;
import io.urunc.it.cri.api.PodSandboxConfig;
import io.urunc.it.cri.api.PodSandboxMetadata;
import io.urunc.it.cri.api.PodSandboxStatusRequest;
import io.urunc.it.cri.api.PodSandboxStatusResponse;
import io.urunc.it.cri.api.RemoveContainerRequest;
import io.urunc.it.cri.api.RemovePodSandboxRequest;
import io.urunc.it.cri.api.RunPodSandboxRequest;
import io.urunc.it.cri.api.RuntimeCondition;
import io.urunc.it.cri.api.RuntimeServiceGrpc;
import io.urunc.it.cri.api.StartContainerRequest;
import io.urunc.it.cri.api.StatusRequest;
import io.urunc.it.cri.api.StopContainerRequest;
import io.urunc.it.cri.api.StopPodSandboxRequest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private containerd with its CRI plugin on, driven through the CRI gRPC API like a kubelet would: runtime
 * handlers {@value #RUNC} (io.containerd.runc.v2, the default) and {@value #URUNC} (io.containerd.urunc.v2, this
 * build's shim), a locally built pause image as sandbox image, and a CNI bridge of its own ({@code urcri<N>},
 * 10.214.N.0/24, host-local IPAM with its data in this fixture's directory). Nothing is pulled: the images live in
 * namespace k8s.io, imported with ctr.
 *
 * <p>Pods get the cgroup parent {@code /urcri<N>}, runc keeps its state under this fixture's directory, so
 * {@link #leftovers()} can name anything a pod left behind. Closing stops and removes every pod, stops containerd
 * and deletes the bridge, the pods' network namespaces and cgroups if something left them.
 */
public final class Cri implements AutoCloseable {
    public static final String RUNC = "runc";
    public static final String URUNC = "urunc";
    public static final String K8S_NAMESPACE = "k8s.io";
    private static final Duration CALL_LIMIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final int net;
    private final Containerd containerd;
    private final EventLoopGroup group;
    private final ManagedChannel channel;
    /** Pod id to the path of its network namespace, as CRI reported it. */
    private final Map<String, String> podNetns = new ConcurrentHashMap<>();
    private final Set<String> containerIds = ConcurrentHashMap.newKeySet();

    private Cri(Path dir, int net, Containerd containerd) {
        this.dir = dir;
        this.net = net;
        this.containerd = containerd;
        this.group = new EpollEventLoopGroup(1);
        this.channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(containerd.socket().toString()))
                .eventLoopGroup(group)
                .channelType(EpollDomainSocketChannel.class)
                .usePlaintext()
                .build();
    }

    /** Starts containerd with CRI, imports the pause and busybox images and waits until CRI reports ready. */
    public static Cri start() throws IOException, InterruptedException {
        return start(Stack.CONTAINERD_1_6);
    }

    public static Cri start(Stack stack) throws IOException, InterruptedException {
        return start(stack, "");
    }

    /** As {@link #start(Stack)}, with extra TOML appended to the urunc shim's config. */
    public static Cri start(Stack stack, String uruncConfig) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "ucri");
        Containerd containerd = null;
        Cri cri = null;
        try {
            int net = reserveSubnet();
            Path confDir = dir.resolve("cni/net.d");
            Files.createDirectories(confDir);
            Files.writeString(confDir.resolve("10-urunc-cri.conflist"), conflist(net, dir.resolve("cni/ipam")));
            Path images = dir.resolve("images");
            Path pause = PlainImages.pause(images);
            Path busybox = PlainImages.busybox(images);
            containerd = Containerd.start(stack, criConfig(stack, dir, confDir), uruncConfig);
            cri = new Cri(dir, net, containerd);
            containerd.ctr(Duration.ofMinutes(1), "-n", K8S_NAMESPACE, "images", "import", pause.toString()).ok();
            containerd.ctr(Duration.ofMinutes(1), "-n", K8S_NAMESPACE, "images", "import", busybox.toString()).ok();
            cri.awaitReady(Duration.ofSeconds(30));
            return cri;
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            if (cri != null) cri.close();
            else {
                if (containerd != null) containerd.close();
                Containerd.deleteTree(dir);
            }
            throw e;
        }
    }

    /**
     * The CRI configuration: in containerd 1.6 (config version 2) one plugin, {@code io.containerd.grpc.v1.cri};
     * in 2.x (version 3) split into runtime and image plugins, with NRI off.
     */
    private static String criConfig(Stack stack, Path dir, Path confDir) {
        String runtime = stack.containerd2() ? "plugins.\"io.containerd.cri.v1.runtime\"" : "plugins.\"io.containerd.grpc.v1.cri\"";
        String images = stack.containerd2() ? """
                disabled_plugins = ["io.containerd.nri.v1.nri"]
                [plugins."io.containerd.grpc.v1.cri"]
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "0"
                [plugins."io.containerd.cri.v1.images"]
                  snapshotter = "overlayfs"
                [plugins."io.containerd.cri.v1.images".pinned_images]
                  sandbox = "%1$s"
                [%2$s]
                """ : """
                [%2$s]
                  sandbox_image = "%1$s"
                  stream_server_address = "127.0.0.1"
                  stream_server_port = "0"
                """;
        return images.formatted(PlainImages.PAUSE, runtime) + """
                  restrict_oom_score_adj = true
                  enable_selinux = false
                [%1$s.containerd]
                  default_runtime_name = "runc"
                %4$s
                [%1$s.containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"
                [%1$s.containerd.runtimes.runc.options]
                  Root = "%2$s"
                [%1$s.containerd.runtimes.urunc]
                  runtime_type = "io.containerd.urunc.v2"
                  container_annotations = ["com.urunc.*"]
                [%1$s.cni]
                  %5$s
                  conf_dir = "%3$s"
                  max_conf_num = 1
                """.formatted(runtime, dir.resolve("runc"), confDir, stack.containerd2() ? "" : "  snapshotter = \"overlayfs\"",
                stack.containerd2() ? "bin_dirs = [\"/usr/lib/cni\"]" : "bin_dir = \"/usr/lib/cni\"");
    }

    private static String conflist(int net, Path ipamDir) {
        return """
                {
                  "cniVersion": "0.4.0",
                  "name": "urunc-cri-%1$d",
                  "plugins": [
                    {
                      "type": "bridge",
                      "bridge": "urcri%1$d",
                      "isGateway": true,
                      "ipMasq": false,
                      "hairpinMode": true,
                      "ipam": {
                        "type": "host-local",
                        "dataDir": "%2$s",
                        "ranges": [[{"subnet": "10.214.%1$d.0/24", "gateway": "10.214.%1$d.1"}]],
                        "routes": [{"dst": "0.0.0.0/0"}]
                      }
                    }
                  ]
                }
                """.formatted(net, ipamDir);
    }

    /** A 10.214.N.0/24 no host address or route uses, and whose bridge name is free. */
    private static int reserveSubnet() {
        String used = ip("-o", "-4", "addr").stdout() + ip("-4", "route", "show", "table", "all").stdout()
                + ip("-o", "link").stdout();
        for (int attempt = 0; attempt < 50; attempt++) {
            int n = ThreadLocalRandom.current().nextInt(1, 255);
            if (!used.contains("10.214." + n + ".") && !used.contains(" urcri" + n + ":")) return n;
        }
        throw new IllegalStateException("no free 10.214.N.0/24 for the CRI bridge");
    }

    private void awaitReady(Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                List<RuntimeCondition> conditions = runtime().status(StatusRequest.getDefaultInstance()).getStatus()
                        .getConditionsList();
                if (!conditions.isEmpty() && conditions.stream().allMatch(RuntimeCondition::getStatus)) return;
                last = conditions.toString();
            } catch (StatusRuntimeException e) {
                last = e.toString();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("CRI not ready within " + limit + ": " + last + "\n" + containerd.log());
    }

    public RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    public ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    public Containerd containerd() {
        return containerd;
    }

    /** This fixture's own directory (CNI config, IPAM data, pod logs, runc state, built images). */
    public Path dir() {
        return dir;
    }

    public String bridge() {
        return "urcri" + net;
    }

    /** The host's address on the pod bridge. */
    public String gateway() {
        return "10.214." + net + ".1";
    }

    /** Imports the project's test guests (guests/images/NAME) into namespace k8s.io. */
    public void importGuests(String... names) {
        Guests.importInto(containerd, K8S_NAMESPACE, names);
    }

    /** A pod config like a kubelet's: unique uid, a log directory, the fixture's cgroup parent, pod network. */
    public PodSandboxConfig podConfig(String name) {
        String uid = UUID.randomUUID().toString();
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setUid(uid).setNamespace("default"))
                .setHostname(name)
                .setLogDirectory(dir.resolve("logs/default_" + name + "_" + uid).toString())
                .setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setCgroupParent(cgroupParent())
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder()
                                .setNamespaceOptions(NamespaceOption.newBuilder()
                                        .setNetwork(NamespaceMode.POD)
                                        .setPid(NamespaceMode.CONTAINER)
                                        .setIpc(NamespaceMode.POD))))
                .build();
    }

    /** A container config: {@code name/0.log} as log path; empty {@code command} keeps the image's. */
    public static ContainerConfig containerConfig(String name, String image, List<String> command) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage(image))
                .addAllCommand(command)
                .setLogPath(name + "/0.log")
                .build();
    }

    /** RunPodSandbox with the runtime handler; remembers the pod's netns for {@link #leftovers()}. */
    public String runPod(PodSandboxConfig pod, String handler) throws IOException {
        Files.createDirectories(Path.of(pod.getLogDirectory()));
        String id = runtime().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod).setRuntimeHandler(handler)
                .build()).getPodSandboxId();
        netnsPath(id).ifPresent(p -> podNetns.put(id, p));
        return id;
    }

    /** CreateContainer then StartContainer; returns the container id. */
    public String startContainer(String podId, PodSandboxConfig pod, ContainerConfig container) throws IOException {
        Files.createDirectories(logFile(pod, container).getParent());
        String id = runtime().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setConfig(container).setSandboxConfig(pod).build()).getContainerId();
        containerIds.add(id);
        runtime().startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    public static Path logFile(PodSandboxConfig pod, ContainerConfig container) {
        return Path.of(pod.getLogDirectory()).resolve(container.getLogPath());
    }

    public ContainerStatus status(String containerId) {
        return runtime().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(containerId).build())
                .getStatus();
    }

    /** Polls ContainerStatus until the container is in {@code state}; fails with the last status and logs. */
    public ContainerStatus awaitState(String containerId, ContainerState state, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        ContainerStatus last;
        do {
            last = status(containerId);
            if (last.getState() == state) return last;
            Thread.sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("container " + containerId + " not " + state + " within " + limit + ": " + last
                + "\n" + diagnostics());
    }

    public PodSandboxStatusResponse podStatus(String podId, boolean verbose) {
        return runtime().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId)
                .setVerbose(verbose).build());
    }

    public String podIp(String podId) {
        return podStatus(podId, false).getStatus().getNetwork().getIp();
    }

    /** The pod's network namespace path, from the runtime spec in CRI's verbose status. */
    private java.util.Optional<String> netnsPath(String podId) {
        try {
            JsonNode info = JSON.readTree(podStatus(podId, true).getInfoOrDefault("info", "{}"));
            for (JsonNode ns : info.path("runtimeSpec").path("linux").path("namespaces")) {
                if ("network".equals(ns.path("type").asText()) && !ns.path("path").asText().isEmpty()) {
                    return java.util.Optional.of(ns.path("path").asText());
                }
            }
        } catch (IOException | StatusRuntimeException e) {
            // no verbose info: leftovers() then cannot check this pod's netns
        }
        return java.util.Optional.empty();
    }

    /** {@code ip -o link} inside the pod's network namespace. */
    public String podLinks(String podId) {
        String path = podNetns.get(podId);
        if (path == null) throw new IllegalStateException("CRI reported no network namespace for pod " + podId);
        return Exec.run(Duration.ofSeconds(10), Map.of(), "ip", "-n", Path.of(path).getFileName().toString(), "-o",
                "link").stdout();
    }

    /** A command run inside the pod's network namespace ({@code ip netns exec}), from the host. */
    public Exec.Result inPodNetns(String podId, String... argv) {
        String path = podNetns.get(podId);
        if (path == null) throw new IllegalStateException("CRI reported no network namespace for pod " + podId);
        return Exec.run(Duration.ofSeconds(10), Map.of(), Exec.concat(List.of("ip", "netns", "exec",
                Path.of(path).getFileName().toString()), argv));
    }

    /** StopContainer then RemoveContainer. */
    public void removeContainer(String containerId) {
        runtime().stopContainer(StopContainerRequest.newBuilder().setContainerId(containerId).setTimeout(10).build());
        runtime().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    /** StopPodSandbox then RemovePodSandbox. */
    public void removePod(String podId) {
        runtime().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
        runtime().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
    }

    /**
     * {@link #leftovers()} once they are gone, or what is still there after 15 s: pod removal is synchronous in
     * CRI, but shims and VMMs exit a moment later.
     */
    public List<String> leftoversAfterRemoval() throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(15).toNanos();
        List<String> left = leftovers();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(250);
            left = leftovers();
        }
        return left;
    }

    /**
     * What pods of this fixture left on the host, one line each (empty when clean): VMMs or shims naming the
     * fixture's directories, processes in the pods' cgroups, runc containers, mounts, network namespaces,
     * veths on the bridge, taps, IP allocations.
     */
    public List<String> leftovers() {
        List<String> left = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (String needle : List.of(containerd.dir().toString(), dir.toString())) {
            for (ProcessHandle p : Processes.matching(needle)) {
                String cmd = Processes.cmdline(p.pid());
                if (p.pid() != self && cmd.contains("qemu")) {
                    left.add("VMM " + p.pid() + ": " + cmd);
                } else if (p.pid() != self && cmd.contains("virtiofsd")) {
                    left.add("virtiofsd " + p.pid() + ": " + cmd);
                }
            }
        }
        for (long pid : pidsInCgroup()) left.add("process in the pods' cgroup " + cgroupParent() + ": " + pid + " "
                + Processes.cmdline(pid));
        // runc state: <Root>/<namespace> of the runc shim (handler runc), the urunc shim's own root for the
        // containers it delegates to runc (pause), and containerd's default root (only our ids count there).
        for (Path root : List.of(dir.resolve("runc").resolve(K8S_NAMESPACE),
                containerd.uruncStateDir().resolve("runc").resolve(K8S_NAMESPACE))) {
            Exec.run(Duration.ofSeconds(10), Map.of(), "runc", "--root", root.toString(), "list", "-q").stdout()
                    .lines().filter(l -> !l.isBlank()).forEach(id -> left.add("runc container " + id + " under " + root));
        }
        for (String root : List.of("/run/containerd/runc/" + K8S_NAMESPACE)) {
            Exec.run(Duration.ofSeconds(10), Map.of(), "runc", "--root", root, "list", "-q").stdout().lines()
                    .filter(id -> podNetns.containsKey(id) || containerIds.contains(id))
                    .forEach(id -> left.add("runc container " + id + " under " + root));
        }
        for (String m : Mounts.under(containerd.dir())) if (!m.equals(containerd.dir().toString())) left.add("mount " + m);
        Mounts.under(dir).forEach(m -> left.add("mount " + m));
        podNetns.forEach((pod, path) -> {
            if (Files.exists(Path.of(path))) left.add("netns " + path + " of pod " + pod);
        });
        if (ip("link", "show", bridge()).exit() == 0) {
            ip("-o", "link", "show", "master", bridge()).stdout().lines()
                    .forEach(l -> left.add("port on " + bridge() + ": " + l));
        }
        ip("-o", "link").stdout().lines().filter(l -> l.matches("\\d+: urt.*")).forEach(l -> left.add("tap " + l));
        left.addAll(ipAllocations().stream().map(a -> "IP allocation " + a).toList());
        return left;
    }

    private List<String> ipAllocations() {
        Path ipam = dir.resolve("cni/ipam");
        if (!Files.isDirectory(ipam)) return List.of();
        try (Stream<Path> files = Files.walk(ipam)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")).toList();
        } catch (IOException e) {
            return List.of("(cannot read " + ipam + ": " + e + ")");
        }
    }

    private String cgroupParent() {
        return "/urcri" + net;
    }

    private List<Long> pidsInCgroup() {
        String needle = ":" + cgroupParent() + "/";
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+")).filter(n -> {
                try {
                    return Files.readString(Path.of("/proc", n, "cgroup")).contains(needle);
                } catch (IOException e) {
                    return false;
                }
            }).map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** containerd's and the urunc shim's log tails, for failure messages. */
    public String diagnostics() {
        return "--- containerd log\n" + containerd.log() + "\n--- urunc shim logs\n" + containerd.shimLogs();
    }

    @Override
    public void close() {
        try {
            removeAllPods();
        } finally {
            containerd.close();
            releaseHostResources();
        }
    }

    private void removeAllPods() {
        try {
            for (PodSandbox pod : runtime().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()) {
                try {
                    removePod(pod.getId());
                } catch (StatusRuntimeException e) {
                    System.err.println("Cri.close: pod " + pod.getId() + " not removed: " + e);
                }
            }
        } catch (RuntimeException | LinkageError e) {
            System.err.println("Cri.close: cannot list or remove pods: " + e);
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** What containerd does not own and would leave if a pod was not removed: processes, netns, bridge, cgroups. */
    private void releaseHostResources() {
        pidsInCgroup().forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        podNetns.values().forEach(path -> {
            if (Files.exists(Path.of(path))) {
                Exec.run(Duration.ofSeconds(10), Map.of(), "umount", path);
                Exec.run(Duration.ofSeconds(10), Map.of(), "rm", "-f", path);
            }
        });
        if (ip("link", "show", bridge()).exit() == 0) {
            ip("-o", "link", "show", "master", bridge()).stdout().lines()
                    .map(l -> l.split(":\\s+")[1].split("@")[0]).forEach(port -> ip("link", "del", port));
            ip("link", "del", bridge());
        }
        removeCgroups();
        Mounts.unmountUnder(dir);
        Containerd.deleteTree(dir);
    }

    /** runc creates the parent cgroup in every hierarchy and leaves it behind: remove the empty ones. */
    private void removeCgroups() {
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hierarchies.toList()) {
                Path parent = h.resolve(cgroupParent().substring(1));
                if (Files.isDirectory(parent)) {
                    try (Stream<Path> walk = Files.walk(parent)) {
                        walk.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder())
                                .forEach(d -> d.toFile().delete());
                    }
                }
            }
            Path v2 = Path.of("/sys/fs/cgroup", cgroupParent().substring(1));
            if (Files.isDirectory(v2)) v2.toFile().delete();
        } catch (IOException e) {
            System.err.println("Cri.close: cgroups under " + cgroupParent() + " not removed: " + e);
        }
    }

    private static Exec.Result ip(String... args) {
        return Exec.run(Duration.ofSeconds(10), Map.of(), Exec.concat(List.of("ip"), args));
    }
}
