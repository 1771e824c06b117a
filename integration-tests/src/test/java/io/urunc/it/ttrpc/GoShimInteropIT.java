package io.urunc.it.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Empty;
import io.urunc.proto.ContainerdAny;
import io.urunc.proto.events.TaskExit;
import io.urunc.proto.events.ttrpc.Envelope;
import io.urunc.proto.events.ttrpc.ForwardRequest;
import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.proto.task.CreateTaskResponse;
import io.urunc.proto.task.DeleteRequest;
import io.urunc.proto.task.DeleteResponse;
import io.urunc.proto.task.ShutdownRequest;
import io.urunc.proto.task.StartRequest;
import io.urunc.proto.task.StartResponse;
import io.urunc.proto.task.StateRequest;
import io.urunc.proto.task.StateResponse;
import io.urunc.proto.task.WaitRequest;
import io.urunc.proto.task.WaitResponse;
import io.urunc.proto.types.task.Status;
import io.urunc.ttrpc.CallContext;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcClient;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.ttrpc.TtrpcServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our ttrpc client against Debian's Go {@code containerd-shim-runc-v2}, and our ttrpc server receiving that
 * shim's events: proves our framing and message types match Go's byte for byte.
 */
@Timeout(120)
class GoShimInteropIT {
    private static final String TASK = "containerd.task.v2.Task";
    private static final String EVENTS = "containerd.services.events.ttrpc.v1.Events";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private record Forwarded(Envelope envelope, String namespaceMetadata) {
    }

    private final String suffix = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    private final String namespace = "urunc-ttrpc-it-" + suffix;
    private final String id = "ttrpc-it-" + suffix;
    private final List<Forwarded> events = new CopyOnWriteArrayList<>();
    private Path work;
    private Path bundle;
    private TtrpcServer eventsServer;
    private GoRuncShim shim;
    private TtrpcClient client;
    private long shimPid;

    @BeforeEach
    void startShim() throws Exception {
        assumeTrue(Files.isExecutable(GoRuncShim.BINARY), "needs containerd-shim-runc-v2");
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "needs busybox-static");
        assumeTrue("root".equals(System.getProperty("user.name")), "runc needs root");
        work = Files.createTempDirectory("urunc-ttrpc-it");
        bundle = Files.createDirectories(work.resolve("bundle"));
        writeBundle(bundle, List.of("/bin/busybox", "sh", "-c", "exit 7"));

        eventsServer = TtrpcServer.builder()
                .register(EVENTS, "Forward", ForwardRequest.parser(), (ForwardRequest request, CallContext ctx) -> {
                    events.add(new Forwarded(request.getEnvelope(), ctx.firstMetadata("containerd-namespace-ttrpc")));
                    return Empty.getDefaultInstance();
                })
                .build();
        Path eventsSocket = work.resolve("events.sock");
        eventsServer.bind(eventsSocket);

        shim = GoRuncShim.start(bundle, namespace, id, work.resolve("containerd.sock"), eventsSocket);
        client = TtrpcClient.connect(shim.socket());
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (client != null) {
            client.close();
        }
        if (shim != null) {
            shim.close();
        }
        if (eventsServer != null) {
            eventsServer.close();
        }
        if (work != null) {
            GoRuncShim.deleteTree(work);
        }
    }

    private static void writeBundle(Path bundle, List<String> args) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(bundle.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        String out = GoRuncShim.run(List.of("runc", "spec", "--bundle", bundle.toString()));
        assertTrue(Files.exists(bundle.resolve("config.json")), "runc spec: " + out);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        process.putPOJO("args", args);
        json.writeValue(bundle.resolve("config.json").toFile(), config);
    }

    private <R extends com.google.protobuf.Message> R call(String method, com.google.protobuf.Message request,
            com.google.protobuf.Parser<R> parser) throws TtrpcException, IOException {
        return client.call(TASK, method, request, parser, TIMEOUT, Map.of());
    }

    @Test
    void connectAndStateOfAnUnknownTaskDecodeGoAnswers() throws Exception {
        ConnectResponse connect = call("Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser());
        shimPid = connect.getShimPid();
        assertTrue(shimPid > 0);
        assertTrue(ProcessHandle.of(shimPid).isPresent(), "the shim pid names a live process");
        assertEquals(0, connect.getTaskPid(), "no task created yet");

        TtrpcException notFound = assertThrows(TtrpcException.class,
                () -> call("State", StateRequest.newBuilder().setId("nope").build(), StateResponse.parser()));
        assertEquals(Code.NOT_FOUND, notFound.code(), notFound.toString());

        TtrpcException unimplemented = assertThrows(TtrpcException.class, () -> client.call("containerd.task.v3.Task",
                "Connect", ConnectRequest.getDefaultInstance(), ConnectResponse.parser(), TIMEOUT, Map.of()));
        assertEquals(Code.UNIMPLEMENTED, unimplemented.code());
        assertEquals("service containerd.task.v3.Task", unimplemented.getMessage());

        // Many calls in flight on one connection, answered by Go's server.
        List<CompletableFuture<ConnectResponse>> calls = java.util.stream.IntStream.range(0, 64)
                .mapToObj(i -> client.callAsync(TASK, "Connect", ConnectRequest.newBuilder().setId(id).build(),
                        ConnectResponse.parser(), TIMEOUT, Map.of()))
                .toList();
        for (CompletableFuture<ConnectResponse> c : calls) {
            assertEquals(shimPid, c.get(10, TimeUnit.SECONDS).getShimPid());
        }
        call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser());
    }

    @Test
    void runsARuncContainerThroughTheGoShimAndReceivesItsEvents() throws Exception {
        shimPid = call("Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser()).getShimPid();

        CreateTaskResponse created = call("Create", CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString())
                .build(), CreateTaskResponse.parser());
        assertTrue(created.getPid() > 0, "runc create gave the init pid");
        StateResponse createdState = call("State", StateRequest.newBuilder().setId(id).build(), StateResponse.parser());
        assertEquals(Status.CREATED, createdState.getStatus());
        assertEquals(bundle.toString(), createdState.getBundle());

        // As ctr does: Wait before Start; it blocks in Go while we go on using the same connection.
        CompletableFuture<WaitResponse> wait = client.callAsync(TASK, "Wait", WaitRequest.newBuilder().setId(id).build(),
                WaitResponse.parser(), Duration.ofSeconds(30), Map.of());
        StartResponse started = call("Start", StartRequest.newBuilder().setId(id).build(), StartResponse.parser());
        assertEquals(created.getPid(), started.getPid());

        WaitResponse exited = wait.get(30, TimeUnit.SECONDS);
        assertEquals(7, exited.getExitStatus());
        assertTrue(exited.getExitedAt().getSeconds() > 0);

        StateResponse stopped = call("State", StateRequest.newBuilder().setId(id).build(), StateResponse.parser());
        assertEquals(Status.STOPPED, stopped.getStatus());
        assertEquals(7, stopped.getExitStatus());
        assertEquals(created.getPid(), stopped.getPid());

        DeleteResponse deleted = call("Delete", DeleteRequest.newBuilder().setId(id).build(), DeleteResponse.parser());
        assertEquals(7, deleted.getExitStatus());
        assertEquals(created.getPid(), deleted.getPid());
        assertFalse(Files.exists(shim.runcRoot().resolve(id)), "runc state is gone after Delete");

        try {
            call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser());
        } catch (IOException exitedBeforeAnswering) {
            // the Go shim may exit before its answer is flushed
        }
        assertTrue(ProcessHandle.of(shimPid).map(p -> p.onExit().completeOnTimeout(p, 10, TimeUnit.SECONDS).join())
                .map(p -> !p.isAlive()).orElse(true), "the shim exits after Shutdown");

        List<String> topics = eventuallyTopics(List.of("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"));
        assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"), topics, shim.log());
        Forwarded exit = events.stream().filter(e -> e.envelope().getTopic().equals("/tasks/exit")).findFirst().orElseThrow();
        assertEquals(namespace, exit.envelope().getNamespace());
        assertEquals(namespace, exit.namespaceMetadata(), "Go's publisher sets containerd-namespace-ttrpc");
        assertEquals("containerd.events.TaskExit", exit.envelope().getEvent().getTypeUrl());
        TaskExit taskExit = ContainerdAny.unpack(exit.envelope().getEvent(), TaskExit.getDefaultInstance(), TaskExit.parser());
        assertEquals(id, taskExit.getContainerId());
        assertEquals(7, taskExit.getExitStatus());
        assertEquals(created.getPid(), taskExit.getPid());
    }

    private List<String> eventuallyTopics(List<String> expected) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < end && events.size() < expected.size()) {
            Thread.sleep(50);
        }
        return events.stream().map(e -> e.envelope().getTopic()).toList();
    }
}
