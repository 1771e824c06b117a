package io.urunc.image.grpc;

import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static io.urunc.image.grpc.FakeGrpcServer.answering;
import static io.urunc.image.grpc.FakeGrpcServer.okHeaders;
import static io.urunc.image.grpc.FakeGrpcServer.send;
import static io.urunc.image.grpc.FakeGrpcServer.trailers;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client against a scripted Netty HTTP/2 server on a unix socket. */
class UnaryGrpcClientTest {
    static final String METHOD = "/test.v1.Things/Get";
    static final Map<String, String> NS = Map.of("containerd-namespace", "ns1");
    static final Duration TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path dir;
    FakeGrpcServer server;

    @AfterEach
    void stopServer() throws Exception {
        if (server != null) server.close();
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sendsAGrpcRequestAndReassemblesAResponseSplitAcrossDataFrames() throws Exception {
        server = new FakeGrpcServer(dir, answering(1, bytes("the reply")));
        try (var client = new UnaryGrpcClient(server.socket)) {
            assertArrayEquals(bytes("the reply"), client.unary(METHOD, NS, bytes("the request"), Duration.ofMillis(1500)));
        }
        FakeGrpcServer.Request req = server.requests.take();
        Http2Headers h = req.headers();
        assertEquals("POST", h.method().toString());
        assertEquals("http", h.scheme().toString());
        assertEquals(METHOD, h.path().toString());
        assertEquals("localhost", h.authority().toString());
        assertEquals("application/grpc", h.get("content-type").toString());
        assertEquals("trailers", h.get("te").toString());
        assertEquals("ns1", h.get("containerd-namespace").toString());
        String timeout = h.get("grpc-timeout").toString();
        assertTrue(timeout.matches("\\d{1,8}m") && Long.parseLong(timeout.replace("m", "")) <= 1500, timeout);
        assertArrayEquals(bytes("the request"), FakeGrpcServer.unframe(req.body()));
    }

    @Test
    void serverStreamingReturnsEveryMessageInOrder() throws Exception {
        byte[] big = new byte[300_000]; // larger than HTTP/2's default 64 KiB window: flow control must keep up
        for (int i = 0; i < big.length; i++) big[i] = (byte) i;
        server = new FakeGrpcServer(dir, answering(7000, bytes("one"), new byte[0], big, bytes("last")));
        try (var client = new UnaryGrpcClient(server.socket)) {
            List<byte[]> got = client.serverStreaming(METHOD, NS, bytes("r"), TIMEOUT, 1 << 20);
            assertEquals(4, got.size());
            assertArrayEquals(bytes("one"), got.get(0));
            assertArrayEquals(new byte[0], got.get(1));
            assertArrayEquals(big, got.get(2));
            assertArrayEquals(bytes("last"), got.get(3));
        }
    }

    @Test
    void aStatusOtherThanOkBecomesAnExceptionWithTheDecodedMessage() throws Exception {
        server = new FakeGrpcServer(dir, (req, stream) -> {
            send(stream, okHeaders(), false);
            send(stream, trailers(5, "container%20%22c1%22%3A%20not%20found%20%E2%9C%93"), true);
        });
        try (var client = new UnaryGrpcClient(server.socket)) {
            GrpcException e = assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT));
            assertEquals(GrpcCode.NOT_FOUND, e.code());
            assertEquals("container \"c1\": not found ✓", e.description());
        }
    }

    @Test
    void aTrailersOnlyResponseCarriesTheStatus() throws Exception {
        server = new FakeGrpcServer(dir, (req, stream) ->
                send(stream, okHeaders().add("grpc-status", "12").add("grpc-message", "unknown service"), true));
        try (var client = new UnaryGrpcClient(server.socket)) {
            GrpcException e = assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT));
            assertEquals(GrpcCode.UNIMPLEMENTED, e.code());
            assertEquals("unknown service", e.description());
        }
    }

    @Test
    void anHttpErrorWithoutGrpcStatusIsMappedAsGrpcSays() throws Exception {
        server = new FakeGrpcServer(dir, (req, stream) -> send(stream, new DefaultHttp2Headers().status("503"), true));
        try (var client = new UnaryGrpcClient(server.socket)) {
            GrpcException e = assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT));
            assertEquals(GrpcCode.UNAVAILABLE, e.code());
            assertTrue(e.description().contains("503"), e.description());
        }
    }

    @Test
    void okWithoutAResponseMessageIsNotASuccessfulUnaryCall() throws Exception {
        server = new FakeGrpcServer(dir, answering(100));
        try (var client = new UnaryGrpcClient(server.socket)) {
            assertEquals(GrpcCode.INTERNAL, assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT)).code());
        }
    }

    @Test
    void aResponseOverTheByteLimitIsRefused() throws Exception {
        server = new FakeGrpcServer(dir, answering(4096, new byte[600], new byte[600]));
        try (var client = new UnaryGrpcClient(server.socket)) {
            GrpcException e = assertThrows(GrpcException.class, () -> client.serverStreaming(METHOD, NS, bytes("r"), TIMEOUT, 1000));
            assertEquals(GrpcCode.RESOURCE_EXHAUSTED, e.code());
            assertTrue(e.description().contains("1000"), e.description());
        }
    }

    @Test
    void aSilentServerHitsTheDeadlineAndTheStreamIsCancelled() throws Exception {
        server = new FakeGrpcServer(dir, (req, stream) -> send(stream, okHeaders(), false));
        try (var client = new UnaryGrpcClient(server.socket)) {
            long t0 = System.nanoTime();
            GrpcException e = assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), Duration.ofMillis(300)));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(GrpcCode.DEADLINE_EXCEEDED, e.code());
            assertTrue(ms >= 250 && ms < 1500, ms + " ms");
            assertEquals("CANCEL", server.resets.poll(2, TimeUnit.SECONDS));
        }
    }

    @Test
    void aServerResetIsMappedToAStatus() throws Exception {
        server = new FakeGrpcServer(dir, (req, stream) -> stream.close()); // an open stream closed: RST_STREAM CANCEL
        try (var client = new UnaryGrpcClient(server.socket)) {
            assertEquals(GrpcCode.CANCELLED, assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT)).code());
        }
    }

    @Test
    void aMissingSocketIsUnavailableAtOnce() {
        try (var client = new UnaryGrpcClient(dir.resolve("nothing.sock"))) {
            long t0 = System.nanoTime();
            GrpcException e = assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT));
            assertEquals(GrpcCode.UNAVAILABLE, e.code());
            assertTrue(e.description().contains("nothing.sock"), e.description());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1));
        }
    }

    @Test
    void concurrentCallsShareOneConnection() throws Exception {
        server = new FakeGrpcServer(dir, (req, stream) -> answering(3, FakeGrpcServer.unframe(req.body())).respond(req, stream));
        try (var client = new UnaryGrpcClient(server.socket); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<byte[]>> calls = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                byte[] req = bytes("call " + i);
                calls.add(pool.submit(() -> client.unary(METHOD, NS, req, TIMEOUT)));
            }
            for (int i = 0; i < 16; i++) assertArrayEquals(bytes("call " + i), calls.get(i).get());
        }
        assertEquals(1, server.accepted.size());
    }

    @Test
    void aDroppedConnectionIsOpenedAgainForTheNextCall() throws Exception {
        server = new FakeGrpcServer(dir, answering(100, bytes("ok")));
        try (var client = new UnaryGrpcClient(server.socket)) {
            assertArrayEquals(bytes("ok"), client.unary(METHOD, NS, bytes("r"), TIMEOUT));
            server.dropConnections();
            Thread.sleep(200); // let the client's event loop see the connection close
            assertArrayEquals(bytes("ok"), client.unary(METHOD, NS, bytes("r"), TIMEOUT));
        }
        assertEquals(2, server.accepted.size());
    }

    @Test
    void closeLeavesNoThreadBehindAndLaterCallsFail() throws Exception {
        server = new FakeGrpcServer(dir, answering(100, bytes("ok")));
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        var client = new UnaryGrpcClient(server.socket);
        assertArrayEquals(bytes("ok"), client.unary(METHOD, NS, bytes("r"), TIMEOUT));
        client.close();
        // The event loop reports termination just before its thread has exited: give that a moment.
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!before.contains(t) && !t.getName().startsWith(FakeGrpcServer.THREAD_PREFIX)) t.join(2000);
        }
        Set<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !before.contains(t) && !t.getName().startsWith(FakeGrpcServer.THREAD_PREFIX))
                .map(Thread::getName).collect(Collectors.toSet());
        assertEquals(Set.of(), left);
        GrpcException e = assertThrows(GrpcException.class, () -> client.unary(METHOD, NS, bytes("r"), TIMEOUT));
        assertEquals(GrpcCode.UNAVAILABLE, e.code());
    }

    @Test
    void badArgumentsAreNamed() {
        try (var client = new UnaryGrpcClient(dir.resolve("x.sock"))) {
            var e = assertThrows(IllegalArgumentException.class, () -> client.unary("Things.Get", NS, bytes("r"), TIMEOUT));
            assertTrue(e.getMessage().contains("Things.Get"));
            e = assertThrows(IllegalArgumentException.class, () -> client.unary(METHOD, Map.of("Bad-Name", "x"), bytes("r"), TIMEOUT));
            assertNotNull(e.getMessage());
            assertTrue(e.getMessage().contains("Bad-Name"));
        }
    }
}
