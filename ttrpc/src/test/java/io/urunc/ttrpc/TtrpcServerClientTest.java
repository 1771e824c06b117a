package io.urunc.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.proto.task.StateRequest;
import io.urunc.proto.task.StateResponse;
import io.urunc.proto.task.WaitRequest;
import io.urunc.proto.task.WaitResponse;
import io.urunc.proto.ttrpc.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class TtrpcServerClientTest {
    private static final String TASK = "containerd.task.v2.Task";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private Path socket;
    private TtrpcServer server;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final CountDownLatch releaseWait = new CountDownLatch(1);
    private final CountDownLatch waitStarted = new CountDownLatch(1);
    private final CountDownLatch waitInterrupted = new CountDownLatch(1);
    private final List<Integer> connectionCounts = new CopyOnWriteArrayList<>();
    private final CountDownLatch createStarted = new CountDownLatch(1);
    private final CountDownLatch createSawAbandoned = new CountDownLatch(1);

    @BeforeEach
    void startServer() throws IOException {
        socket = dir.resolve("t.sock");
        server = TtrpcServer.builder()
                .register(TASK, "Connect", ConnectRequest.parser(), (ConnectRequest req, CallContext ctx) ->
                        ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid()).setVersion(req.getId()).build())
                .register(TASK, "State", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    throw TtrpcException.notFound("process " + req.getId() + " does not exist");
                })
                .register(TASK, "Wait", WaitRequest.parser(), (WaitRequest req, CallContext ctx) -> {
                    waitStarted.countDown();
                    try {
                        releaseWait.await();
                    } catch (InterruptedException e) {
                        waitInterrupted.countDown();
                        throw new TtrpcException(Code.CANCELLED, "wait interrupted");
                    }
                    return WaitResponse.newBuilder().setExitStatus(7).build();
                })
                .register(TASK, "Create", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    // a Create busy with something that does not heed interrupts (a process start, a mount)
                    createStarted.countDown();
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (!ctx.abandoned() && System.nanoTime() < deadline) Thread.onSpinWait();
                    if (!ctx.abandoned()) return Empty.getDefaultInstance();
                    createSawAbandoned.countDown();
                    throw new TtrpcException(Code.CANCELLED, "rolled back");
                })
                .connectionListener(connectionCounts::add)
                .build();
        server.bind(socket);
    }

    @AfterEach
    void cleanUp() throws Exception {
        releaseWait.countDown();
        for (AutoCloseable c : toClose) {
            c.close();
        }
        server.close();
    }

    private TtrpcClient client() throws IOException {
        TtrpcClient client = TtrpcClient.connect(socket);
        toClose.add(client);
        return client;
    }

    private RawConnection raw() throws IOException {
        RawConnection raw = new RawConnection(socket);
        toClose.add(raw);
        return raw;
    }

    private static ConnectResponse connect(TtrpcClient client, String id) throws Exception {
        return client.call(TASK, "Connect", ConnectRequest.newBuilder().setId(id).build(), ConnectResponse.parser(),
                TIMEOUT, Map.of());
    }

    private static void eventually(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        eventually(() -> what, condition);
    }

    private static void eventually(java.util.function.Supplier<String> what, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what.get());
            }
            Thread.sleep(10);
        }
    }

    @Test
    void roundTripOverASocketOnlyItsOwnerCanOpen() throws Exception {
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        ConnectResponse response = connect(client(), "c1");
        assertEquals("c1", response.getVersion());
        assertEquals(ProcessHandle.current().pid(), response.getShimPid());
        assertEquals(1, server.openConnections());
    }

    @Test
    void errorStatusesReachTheCallerWithTheirCode() throws Exception {
        TtrpcClient client = client();
        TtrpcException notFound = assertThrows(TtrpcException.class, () -> client.call(TASK, "State",
                StateRequest.newBuilder().setId("x").build(), StateResponse.parser(), TIMEOUT, Map.of()));
        assertEquals(Code.NOT_FOUND, notFound.code());
        assertEquals("process x does not exist", notFound.getMessage());

        TtrpcException unimplemented = assertThrows(TtrpcException.class, () -> client.call(TASK, "Pause",
                StateRequest.getDefaultInstance(), Empty.parser(), TIMEOUT, Map.of()));
        assertEquals(Code.UNIMPLEMENTED, unimplemented.code());
        assertEquals("method Pause", unimplemented.getMessage());
    }

    @Test
    void blockingHandlerDoesNotStallOtherCallsOnTheSameConnection() throws Exception {
        TtrpcClient client = client();
        CompletableFuture<WaitResponse> wait = client.callAsync(TASK, "Wait", WaitRequest.getDefaultInstance(),
                WaitResponse.parser(), null, Map.of());
        for (int i = 0; i < 50; i++) {
            assertEquals("n" + i, connect(client, "n" + i).getVersion());
        }
        assertFalse(wait.isDone());
        releaseWait.countDown();
        assertEquals(7, wait.get(5, TimeUnit.SECONDS).getExitStatus());
    }

    @Test
    void manyClientsWithManyCallsInFlight() throws Exception {
        int clients = 8;
        int callsPerClient = 400;
        int inFlight = 32;
        List<CompletableFuture<Void>> runs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            TtrpcClient client = client();
            String prefix = "c" + c + "-";
            runs.add(CompletableFuture.runAsync(() -> {
                for (int batch = 0; batch < callsPerClient; batch += inFlight) {
                    List<CompletableFuture<ConnectResponse>> calls = new ArrayList<>();
                    for (int i = batch; i < batch + inFlight; i++) {
                        calls.add(client.callAsync(TASK, "Connect", ConnectRequest.newBuilder().setId(prefix + i).build(),
                                ConnectResponse.parser(), TIMEOUT, Map.of()));
                    }
                    for (int i = 0; i < calls.size(); i++) {
                        assertEquals(prefix + (batch + i), calls.get(i).join().getVersion());
                    }
                }
            }));
        }
        // One Wait blocks on the first connection meanwhile.
        TtrpcClient first = (TtrpcClient) toClose.getFirst();
        CompletableFuture<WaitResponse> wait = first.callAsync(TASK, "Wait", WaitRequest.getDefaultInstance(),
                WaitResponse.parser(), null, Map.of());
        CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        assertEquals(clients, server.openConnections());
        assertFalse(wait.isDone());
    }

    @Test
    void clientTimeoutFailsWithDeadlineExceededAndInterruptsTheHandler() throws Exception {
        TtrpcClient client = client();
        long start = System.nanoTime();
        TtrpcException e = assertThrows(TtrpcException.class, () -> client.call(TASK, "Wait",
                WaitRequest.getDefaultInstance(), WaitResponse.parser(), Duration.ofMillis(200), Map.of()));
        assertEquals(Code.DEADLINE_EXCEEDED, e.code());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3));
        assertTrue(waitInterrupted.await(5, TimeUnit.SECONDS), "the server gave up on the handler at the same deadline");
        assertEquals("after", connect(client, "after").getVersion());
        assertEquals(0, client.pendingCalls());
    }

    @Test
    void serverAnswersDeadlineExceededWhenTheRequestTimeoutPasses() throws Exception {
        RawConnection raw = raw();
        raw.writeRequest(1, Request.newBuilder().setService(TASK).setMethod("Wait")
                .setTimeoutNano(Duration.ofMillis(100).toNanos()).build());
        RawConnection.Received received = raw.read();
        assertEquals(1, received.streamId());
        assertEquals(Code.DEADLINE_EXCEEDED.value(), received.response().getStatus().getCode());
        assertTrue(waitInterrupted.await(5, TimeUnit.SECONDS));
    }

    @Test
    void aHandlerLearnsItsCallerIsGoneWhenTheConnectionCloses() throws Exception {
        RawConnection raw = raw();
        raw.writeRequest(1, Request.newBuilder().setService(TASK).setMethod("Create").build());
        assertTrue(createStarted.await(5, TimeUnit.SECONDS));
        raw.close();
        assertTrue(createSawAbandoned.await(5, TimeUnit.SECONDS), "CallContext.abandoned() turned true");
    }

    @Test
    void aHandlerLearnsItsCallerIsGoneWhenTheDeadlinePasses() throws Exception {
        RawConnection raw = raw();
        raw.writeRequest(1, Request.newBuilder().setService(TASK).setMethod("Create")
                .setTimeoutNano(Duration.ofMillis(100).toNanos()).build());
        int code = raw.read().response().getStatus().getCode();
        assertTrue(code == Code.DEADLINE_EXCEEDED.value() || code == Code.CANCELLED.value(), "status " + code);
        assertTrue(createSawAbandoned.await(5, TimeUnit.SECONDS), "CallContext.abandoned() turned true");
    }

    @Test
    void clientDisconnectMidRequestInterruptsItsHandlerAndTheServerCarriesOn() throws Exception {
        TtrpcClient client = TtrpcClient.connect(socket);
        CompletableFuture<WaitResponse> wait = client.callAsync(TASK, "Wait", WaitRequest.getDefaultInstance(),
                WaitResponse.parser(), null, Map.of());
        assertTrue(waitStarted.await(5, TimeUnit.SECONDS));
        client.close();
        assertInstanceOf(IOException.class, assertThrows(ExecutionException.class, wait::get).getCause());
        assertTrue(waitInterrupted.await(5, TimeUnit.SECONDS));
        eventually("the connection to be forgotten", () -> server.openConnections() == 0);
        assertEquals("next", connect(client(), "next").getVersion());
        assertEquals(List.of(1, 0, 1), connectionCounts);
    }

    @Test
    void protocolAbuseIsAnsweredOnItsStreamWithoutClosingTheConnection() throws Exception {
        RawConnection raw = raw();
        raw.writeFrame(1, Frame.TYPE_REQUEST, 0, new byte[] {(byte) 0xff, 0x01});
        assertEquals(Code.INVALID_ARGUMENT.value(), raw.read().response().getStatus().getCode());

        raw.writeFrame(3, 0x42, 0, new byte[] {1, 2, 3}); // unknown type: ignored
        raw.writeRequest(4, Request.newBuilder().setService(TASK).setMethod("Connect").build());
        RawConnection.Received even = raw.read();
        assertEquals(4, even.streamId());
        assertEquals("StreamID must be odd for client initiated streams", even.response().getStatus().getMessage());

        raw.writeHeader(Frame.MAX_PAYLOAD + 1L, 5, Frame.TYPE_REQUEST, 0);
        raw.write(new byte[Frame.MAX_PAYLOAD + 1]);
        RawConnection.Received oversized = raw.read();
        assertEquals(5, oversized.streamId());
        assertEquals(Code.RESOURCE_EXHAUSTED.value(), oversized.response().getStatus().getCode());

        raw.writeRequest(7, Request.newBuilder().setService("nope").setMethod("Connect").build());
        assertEquals("service nope", raw.read().response().getStatus().getMessage());

        raw.writeRequest(9, Request.newBuilder().setService(TASK).setMethod("Connect")
                .setPayload(ConnectRequest.newBuilder().setId("ok").build().toByteString()).build());
        RawConnection.Received ok = raw.read();
        assertFalse(ok.response().hasStatus());
        assertEquals("ok", ConnectResponse.parseFrom(ok.response().getPayload()).getVersion());
    }

    @Test
    void truncatedFrameThenHangUpLeavesTheServerServing() throws Exception {
        RawConnection raw = new RawConnection(socket);
        raw.writeHeader(100, 1, Frame.TYPE_REQUEST, 0);
        raw.write(new byte[10]);
        eventually("the server to count the connection", () -> server.openConnections() == 1);
        raw.close();
        eventually("the connection to be closed", () -> server.openConnections() == 0);
        assertEquals("still", connect(client(), "still").getVersion());
    }

    @Test
    void bindRefusesALiveSocketAndAnythingThatIsNotASocket() throws Exception {
        try (TtrpcServer second = TtrpcServer.builder().build()) {
            IOException inUse = assertThrows(IOException.class, () -> second.bind(socket));
            assertTrue(inUse.getMessage().contains("already in use"), inUse.getMessage());
            Path file = Files.writeString(dir.resolve("file"), "x");
            IOException notSocket = assertThrows(IOException.class, () -> second.bind(file));
            assertTrue(notSocket.getMessage().contains("not a socket"), notSocket.getMessage());
            IOException noDir = assertThrows(IOException.class, () -> second.bind(dir.resolve("missing/s.sock")));
            assertTrue(noDir.getMessage().contains("does not exist"), noDir.getMessage());
            IOException tooLong = assertThrows(IOException.class, () -> second.bind(dir.resolve("x".repeat(120))));
            assertTrue(tooLong.getMessage().contains("sockaddr_un"), tooLong.getMessage());
        }
        assertTrue(Files.exists(socket), "a failed bind leaves the live server's socket alone");
        assertEquals("alive", connect(client(), "alive").getVersion());
    }

    @Test
    void staleSocketFileIsReplaced() throws Exception {
        server.close();
        Path stale = dir.resolve("stale.sock");
        try (var listener = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            listener.bind(java.net.UnixDomainSocketAddress.of(stale));
        }
        assertTrue(Files.exists(stale), "closing a JDK listener leaves its socket file behind");
        socket = stale;
        startServerAt(stale);
        assertEquals("fresh", connect(client(), "fresh").getVersion());
    }

    private void startServerAt(Path path) throws IOException {
        server = TtrpcServer.builder()
                .register(TASK, "Connect", ConnectRequest.parser(), (ConnectRequest req, CallContext ctx) ->
                        ConnectResponse.newBuilder().setVersion(req.getId()).build())
                .build();
        server.bind(path);
    }

    @Test
    void closeDropsConnectionsRemovesTheSocketAndStopsItsThreads() throws Exception {
        TtrpcClient client = client();
        connect(client, "x");
        server.close();
        assertFalse(Files.exists(socket));
        eventually("the client to see the connection close", () -> !client.isOpen());
        assertThrows(IOException.class, () -> connect(client, "y"));
        assertThrows(IOException.class, () -> TtrpcClient.connect(socket));
        client.close();
        eventually(() -> "event loop threads to end: " + ttrpcThreads(), () -> ttrpcThreads().isEmpty());
    }

    private static List<String> ttrpcThreads() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getName).filter(n -> n.startsWith("ttrpc-")).toList();
    }

    @Test
    void connectToAMissingSocketNamesIt() {
        IOException e = assertThrows(IOException.class, () -> TtrpcClient.connect(dir.resolve("absent.sock")));
        assertTrue(e.getMessage().contains("absent.sock"), e.getMessage());
    }

    @Test
    void peerRunningAsAnotherUserIsRefused() throws Exception {
        // Open the path to everyone so only the SO_PEERCRED check can refuse the peer.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        byte[] request = Request.newBuilder().setService(TASK).setMethod("Connect").build().toByteArray();
        String frame = String.format("%08x%08x0100", request.length, 1) + HexFormat.of().formatHex(request);
        String script = """
                import os, socket, sys
                if len(sys.argv) > 3:
                    os.setgroups([]); os.setgid(65534); os.setuid(65534)
                s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
                try:
                    s.sendall(bytes.fromhex(sys.argv[2]))
                    d = s.recv(100)
                except (BrokenPipeError, ConnectionResetError):
                    d = b""
                print("closed" if d == b"" else "answered")
                """;
        assertEquals("answered", runPython(script, socket.toString(), frame), "same user is served");
        assertEquals("closed", runPython(script, socket.toString(), frame, "as-nobody"));
        eventually("the refused connection to be gone", () -> server.openConnections() == 0);
        assertFalse(connectionCounts.isEmpty());
    }

    private static String runPython(String script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("python3", "-c", script));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        assertTrue(process.waitFor(10, TimeUnit.SECONDS));
        return out;
    }
}
