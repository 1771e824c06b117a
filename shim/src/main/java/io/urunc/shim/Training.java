package io.urunc.shim;

import io.urunc.image.ContainerdGrpcMetadataSource;
import io.urunc.image.ContainerdMetadataSource;
import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.proto.task.CreateTaskResponse;
import io.urunc.proto.task.DeleteRequest;
import io.urunc.proto.task.DeleteResponse;
import io.urunc.proto.task.ShutdownRequest;
import io.urunc.proto.task.StateRequest;
import io.urunc.proto.task.StateResponse;
import com.google.protobuf.Empty;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.config.ConfigLoader;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.events.EventPublisher;
import io.urunc.proto.events.TaskCreate;
import io.urunc.proto.events.TaskDelete;
import io.urunc.proto.events.TaskExit;
import io.urunc.proto.events.TaskStart;
import io.urunc.shim.task.Timestamps;
import io.urunc.shim.task.TaskService;
import io.urunc.ttrpc.TtrpcClient;
import io.urunc.ttrpc.TtrpcException;

import java.io.ByteArrayInputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * {@code Main train DIR}: the workload the launcher's {@code aot-train} records the daemon's AOT cache from (JEP 483/515:
 * the classes it loads and links, and the profiles of the methods it runs, are then ready at every later start). It goes
 * through the real code of a cold start: the configuration, the bundle and the daemon address of {@code start}, then a
 * daemon serving ttrpc in this JVM (with its {@link DaemonWarmUp}), a client sending Connect, a Create that reads the
 * image's metadata from containerd over gRPC, plans a QEMU task and launches its VMM ({@code /bin/true} here, so the
 * Create fails at the QMP connection and is rolled back), State, Delete and Shutdown, and the idle exit, task events
 * sent to containerd's ttrpc event service, and containerd's gRPC client against a socket that hangs up. The
 * containerd is the training's own ({@link TrainingContainerd}). Everything lives in DIR; nothing needs root, a
 * containerd, QEMU or a network; as root with iproute2, a second task attaches its VM to a throwaway network
 * namespace ({@link #networkTask}).
 */
final class Training {
    private static final String NAMESPACE = "aot-training";
    private static final Duration CALL = Duration.ofSeconds(30);

    private Training() {}

    static void run(Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.write(bundle.resolve("rootfs/kernel"), new byte[4096]);
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion": "1.1.0", "process": {"args": ["/kernel"], "env": ["PATH=/bin"], "cwd": "/"},
                 "root": {"path": "rootfs"},
                 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}
                """);
        Path configFile = dir.resolve("config.toml");
        Files.writeString(configFile, """
                [shim]
                state_dir = "%s"
                idle_exit_seconds = 1
                [monitors.qemu]
                path = "/bin/true"
                accelerator = "tcg"
                drop_privileges = false
                """.formatted(state));
        ShimConfig config = ConfigLoader.load(Map.of("URUNC_CONFIG_FILE", configFile.toString()));

        // start: bootstrap input, bundle annotations, the group's address
        String containerd = dir.resolve("containerd.sock").toString();
        ShimArgs start = StartInput.apply(ShimArgs.parse(new String[] {"-namespace", NAMESPACE, "-address", containerd,
                "-publish-binary", "/bin/true", "-id", "task", "start"}),
                StartInput.bootstrapParams(StartInput.read(new ByteArrayInputStream(new byte[0]))));
        String group = DaemonAddress.group(config.grouping(), start.id(), Bundle.load(bundle).annotations());
        DaemonAddress.of(containerd, NAMESPACE, group, state);

        // the daemon, on a socket of its own in DIR
        Path socket = Files.createDirectories(dir.resolve("s")).resolve(DaemonAddress.sha256(NAMESPACE));
        Files.createDirectories(state.resolve("log"));
        DaemonLog.toFile(state.resolve("log/training.log"), "info");
        // the image's metadata and the task events go through a containerd of the training's own
        TrainingContainerd trainingContainerd = trainingContainerd(dir);
        ShimArgs daemonArgs = ShimArgs.parse(new String[] {"-namespace", NAMESPACE, "-address", trainingContainerd.socket.toString(),
                "-publish-binary", "/bin/true", "-socket", socket.toString(), "-id", "task", "daemon"});
        Exception[] failed = {null};
        Thread daemon = Thread.ofPlatform().name("training-daemon").start(() -> {
            try {
                ContainerdMetadataSource source = ContainerdSource.forAddress(daemonArgs.address());
                DaemonWarmUp.start(source, NAMESPACE, daemonArgs.id());
                new Daemon(daemonArgs, config, source).run();
            } catch (Exception e) {
                failed[0] = e;
            }
        });
        for (int i = 0; i < 300 && !StartCommand.connectable(socket) && daemon.isAlive(); i++) Thread.sleep(20);
        if (failed[0] != null) throw failed[0];

        try (TtrpcClient client = TtrpcClient.connect(socket)) {
            call(client, "Connect", ConnectRequest.newBuilder().setId("task").build(), ConnectResponse.parser());
            call(client, "Create", CreateTaskRequest.newBuilder().setId("task").setBundle(bundle.toString()).build(),
                    CreateTaskResponse.parser());
            call(client, "State", StateRequest.newBuilder().setId("task").build(), StateResponse.parser());
            call(client, "Delete", DeleteRequest.newBuilder().setId("task").build(), DeleteResponse.parser());
            networkTask(client, dir, bundle);
            call(client, "Shutdown", ShutdownRequest.newBuilder().setId("task").build(), Empty.parser());
        }
        daemon.join(Duration.ofSeconds(30));
        if (failed[0] != null) throw failed[0];
        if (daemon.isAlive()) throw new IllegalStateException("the training daemon did not exit when idle");
        events(trainingContainerd);
        trainingContainerd.close();
        containerdClient(dir.resolve("containerd-grpc.sock"));
    }

    /**
     * containerd's side of a Create: the image's unikernel metadata is in its manifest's annotations (as a urunc
     * image's is), read over gRPC; task events go to containerd's ttrpc event service.
     */
    private static TrainingContainerd trainingContainerd(Path dir) throws Exception {
        return new TrainingContainerd(dir.resolve("containerd.sock"), Map.of(
                "com.urunc.unikernel.unikernelType", "linux", "com.urunc.unikernel.hypervisor", "qemu",
                "com.urunc.unikernel.binary", "/kernel", "com.urunc.unikernel.cmdline", "console=ttyS0"));
    }

    /** A task's events as a daemon publishes them (the training's Create fails, so its daemon publishes none). */
    private static void events(TrainingContainerd containerd) {
        try (EventPublisher events = new EventPublisher(Path.of(containerd.socket + ".ttrpc"), NAMESPACE)) {
            events.publish("/tasks/create", TaskCreate.newBuilder().setContainerId("task").setBundle("/").setPid(1).build());
            events.publish("/tasks/start", TaskStart.newBuilder().setContainerId("task").setPid(1).build());
            events.publish("/tasks/exit", TaskExit.newBuilder().setContainerId("task").setId("task").setPid(1)
                    .setExitedAt(Timestamps.of(Instant.now())).build());
            events.publish("/tasks/delete", TaskDelete.newBuilder().setContainerId("task").setPid(1)
                    .setExitedAt(Timestamps.of(Instant.now())).build());
        }
    }

    /**
     * As root with iproute2: a second task whose VM gets a network attach in a throwaway namespace
     * ({@link TrainingNetwork}), detached again when its Create fails at QMP like the first; elsewhere nothing.
     */
    private static void networkTask(TtrpcClient client, Path dir, Path bundle) throws Exception {
        java.util.Optional<TrainingNetwork> netns;
        try {
            netns = TrainingNetwork.create();
        } catch (java.io.IOException e) {
            System.err.println("training without a network attach: " + e.getMessage());
            return;
        }
        if (netns.isEmpty()) return;
        try (TrainingNetwork ns = netns.get()) {
            Path withNetwork = ns.bundle(bundle, dir.resolve("bundle-net"));
            call(client, "Create", CreateTaskRequest.newBuilder().setId(TrainingContainerd.NETWORK_CONTAINER).setBundle(withNetwork.toString()).build(),
                    CreateTaskResponse.parser());
            call(client, "Delete", DeleteRequest.newBuilder().setId(TrainingContainerd.NETWORK_CONTAINER).build(), DeleteResponse.parser());
        }
    }

    /** containerd's gRPC client (HTTP/2 over the unix socket) against a socket that hangs up at once. */
    private static void containerdClient(Path socket) throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofVirtual().start(() -> {
                try (SocketChannel peer = listener.accept()) {
                    peer.read(ByteBuffer.allocate(256));
                } catch (Exception ignored) {
                    // the client's failure is the point
                }
            });
            try (ContainerdGrpcMetadataSource client = new ContainerdGrpcMetadataSource(socket, Duration.ofSeconds(2))) {
                client.containerLabels(NAMESPACE, "task");
            } catch (Exception expected) {
                // refused: as a containerd that went away
            }
        }
    }

    /** Answers and errors alike are part of the workload: a failed Create is the expected outcome here. */
    private static void call(TtrpcClient client, String method, com.google.protobuf.Message request,
                             com.google.protobuf.Parser<? extends com.google.protobuf.Message> parser) throws Exception {
        try {
            client.call(TaskService.SERVICE, method, request, parser, CALL, Map.of());
        } catch (TtrpcException expected) {
            // NOT_FOUND, FAILED_PRECONDITION: still the real paths of a real daemon
        }
    }
}
