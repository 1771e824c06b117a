package io.urunc.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.proto.task.StateRequest;
import io.urunc.proto.ttrpc.KeyValue;
import io.urunc.proto.ttrpc.Request;
import io.urunc.proto.ttrpc.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ServerConnectionHandlerTest {
    private static final String TASK = "containerd.task.v2.Task";

    private final AtomicReference<CallContext> lastContext = new AtomicReference<>();
    private EmbeddedChannel channel;
    private final java.util.concurrent.atomic.AtomicLong lastCall = new java.util.concurrent.atomic.AtomicLong();

    @AfterEach
    void releaseUnreadFrames() {
        channel.finishAndReleaseAll();
    }

    @BeforeEach
    void setUp() {
        ServiceRegistry registry = new ServiceRegistry.Builder()
                .add(TASK, "Connect", ConnectRequest.parser(), (ConnectRequest req, CallContext ctx) -> {
                    lastContext.set(ctx);
                    return ConnectResponse.newBuilder().setShimPid(1).setVersion(req.getId()).build();
                })
                .add(TASK, "State", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    throw TtrpcException.notFound("container " + req.getId() + " not found");
                })
                .add(TASK, "Kill", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    throw new IllegalStateException("boom");
                })
                .add(TASK, "Huge", StateRequest.parser(), (StateRequest req, CallContext ctx) ->
                        ConnectResponse.newBuilder().setVersion("x".repeat(Frame.MAX_PAYLOAD)).build())
                .add(TASK, "Pause", StateRequest.parser(), (StateRequest req, CallContext ctx) -> Empty.getDefaultInstance())
                .add(TASK, "Create", StateRequest.parser(), (StateRequest req, CallContext ctx) -> {
                    throw new OutOfMemoryError("Java heap space");
                })
                .build();
        channel = new EmbeddedChannel(new FrameDecoder(), FrameEncoder.INSTANCE,
                new ServerConnectionHandler(registry, new InlineExecutor(), lastCall));
    }

    private static Request request(String method, ByteString payload) {
        return Request.newBuilder().setService(TASK).setMethod(method).setPayload(payload).build();
    }

    private void send(Frame frame) {
        var buf = Unpooled.buffer();
        buf.writeInt(frame.payload().length).writeInt(frame.streamId()).writeByte(frame.type()).writeByte(frame.flags())
                .writeBytes(frame.payload());
        channel.writeInbound(buf);
    }

    private void sendRequest(int streamId, Request request) {
        send(Frame.request(streamId, request.toByteArray()));
    }

    /** The next Response frame the server wrote, checked to be on {@code streamId}. */
    private Response response(int streamId) throws InvalidProtocolBufferException {
        channel.runPendingTasks();
        var out = (io.netty.buffer.ByteBuf) channel.readOutbound();
        assertNotNull(out, "a response on stream " + streamId);
        try {
            int length = out.readInt();
            assertEquals(streamId, out.readInt(), "stream id");
            assertEquals(Frame.TYPE_RESPONSE, out.readByte(), "type");
            assertEquals(0, out.readByte(), "flags");
            assertEquals(length, out.readableBytes());
            byte[] payload = new byte[length];
            out.readBytes(payload);
            return Response.parseFrom(payload);
        } finally {
            out.release();
        }
    }

    private void assertNoResponse() {
        channel.runPendingTasks();
        assertNull(channel.readOutbound());
    }

    private static void assertStatus(Code code, String message, Response response) {
        assertEquals(code.value(), response.getStatus().getCode(), response.toString());
        assertEquals(message, response.getStatus().getMessage());
    }

    @Test
    void answersAUnaryCallWithPayloadAndNoStatus() throws Exception {
        sendRequest(1, request("Connect", ConnectRequest.newBuilder().setId("c1").build().toByteString()));
        Response response = response(1);
        assertFalse(response.hasStatus(), "success carries no status, as Go's server");
        assertEquals("c1", ConnectResponse.parseFrom(response.getPayload()).getVersion());
    }

    @Test
    void everyAnsweredCallMovesTheServersLastCallTime() throws Exception {
        long before = System.nanoTime();
        sendRequest(1, request("Pause", ByteString.EMPTY));
        response(1);
        long afterFirst = lastCall.get();
        assertTrue(afterFirst - before >= 0, "stamped at the call");
        sendRequest(3, request("State", StateRequest.newBuilder().setId("x").build().toByteString()));
        response(3);
        assertTrue(lastCall.get() - afterFirst >= 0, "a failed call counts too");
        assertTrue(System.nanoTime() - lastCall.get() >= 0);
    }

    @Test
    void emptyResultIsAnEmptyPayload() throws Exception {
        sendRequest(1, request("Pause", ByteString.EMPTY));
        assertEquals(0, response(1).getSerializedSize());
    }

    @Test
    void handlerSeesMetadataAndDeadline() throws Exception {
        Instant before = Instant.now();
        sendRequest(1, request("Connect", ByteString.EMPTY).toBuilder()
                .setTimeoutNano(Duration.ofSeconds(2).toNanos())
                .addMetadata(KeyValue.newBuilder().setKey("containerd-namespace-ttrpc").setValue("k8s.io"))
                .addMetadata(KeyValue.newBuilder().setKey("x").setValue("1"))
                .addMetadata(KeyValue.newBuilder().setKey("x").setValue("2"))
                .build());
        response(1);
        CallContext context = lastContext.get();
        assertEquals("k8s.io", context.firstMetadata("containerd-namespace-ttrpc"));
        assertEquals(List.of("1", "2"), context.metadata().get("x"));
        assertTrue(!context.deadline().isBefore(before.plusMillis(1900)) && context.deadline().isBefore(Instant.now().plusSeconds(3)),
                "deadline about 2 s from now: " + context.deadline());
    }

    @Test
    void noTimeoutMeansNoDeadline() throws Exception {
        sendRequest(1, request("Connect", ByteString.EMPTY));
        response(1);
        assertNull(lastContext.get().deadline());
    }

    @Test
    void unknownServiceAndMethodAreUnimplemented() throws Exception {
        sendRequest(1, request("Connect", ByteString.EMPTY).toBuilder().setService("containerd.task.v3.Task").build());
        assertStatus(Code.UNIMPLEMENTED, "service containerd.task.v3.Task", response(1));
        sendRequest(3, request("Checkpoint", ByteString.EMPTY));
        assertStatus(Code.UNIMPLEMENTED, "method Checkpoint", response(3));
    }

    @Test
    void handlerErrorsKeepTheirCode() throws Exception {
        sendRequest(1, request("State", StateRequest.newBuilder().setId("nope").build().toByteString()));
        assertStatus(Code.NOT_FOUND, "container nope not found", response(1));
        sendRequest(3, request("Kill", ByteString.EMPTY));
        assertStatus(Code.UNKNOWN, "java.lang.IllegalStateException: boom", response(3));
    }

    @Test
    void anErrorInAHandlerIsStillAnsweredAndTheConnectionServesOn() throws Exception {
        sendRequest(1, request("Create", ByteString.EMPTY));
        assertStatus(Code.INTERNAL, "internal error: java.lang.OutOfMemoryError: Java heap space", response(1));
        sendRequest(3, request("Pause", ByteString.EMPTY));
        assertFalse(response(3).hasStatus());
    }

    @Test
    void requestsBeyondTheInFlightLimitAreRefusedAndTheConnectionServesOn() throws Exception {
        java.util.List<Runnable> parked = new java.util.ArrayList<>();
        channel.finishAndReleaseAll();
        ServiceRegistry registry = new ServiceRegistry.Builder()
                .add(TASK, "Pause", StateRequest.parser(), (StateRequest req, CallContext ctx) -> Empty.getDefaultInstance())
                .build();
        // an executor whose handlers have not finished yet: every accepted request stays in flight
        var executor = new java.util.concurrent.AbstractExecutorService() {
            public void execute(Runnable r) { parked.add(r); }
            public void shutdown() {}
            public java.util.List<Runnable> shutdownNow() { return parked; }
            public boolean isShutdown() { return false; }
            public boolean isTerminated() { return false; }
            public boolean awaitTermination(long t, java.util.concurrent.TimeUnit u) { return true; }
        };
        channel = new EmbeddedChannel(new FrameDecoder(), FrameEncoder.INSTANCE, new ServerConnectionHandler(registry, executor));
        int stream = 1;
        for (int i = 0; i < ServerConnectionHandler.MAX_IN_FLIGHT; i++, stream += 2) sendRequest(stream, request("Pause", ByteString.EMPTY));
        assertNoResponse();
        sendRequest(stream, request("Pause", ByteString.EMPTY));
        assertStatus(Code.RESOURCE_EXHAUSTED, "too many requests in flight on this connection (limit "
                + ServerConnectionHandler.MAX_IN_FLIGHT + ")", response(stream));
        parked.removeFirst().run();
        assertFalse(response(1).hasStatus(), "the first request is answered once its handler ran");
        sendRequest(stream + 2, request("Pause", ByteString.EMPTY));
        parked.removeLast().run();
        assertFalse(response(stream + 2).hasStatus(), "a freed slot is used again");
    }

    @Test
    void garbageEnvelopeAndGarbageMethodPayloadAreInvalidArgument() throws Exception {
        send(Frame.request(1, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}));
        Response envelope = response(1);
        assertEquals(Code.INVALID_ARGUMENT.value(), envelope.getStatus().getCode());
        assertTrue(envelope.getStatus().getMessage().startsWith("unmarshal request error"));

        sendRequest(3, request("Connect", ByteString.copyFrom(new byte[] {0x0a, 0x7f})));
        Response inner = response(3);
        assertEquals(Code.INVALID_ARGUMENT.value(), inner.getStatus().getCode());
        assertTrue(inner.getStatus().getMessage().contains("containerd.task.v2.Task/Connect"), inner.getStatus().getMessage());
    }

    @Test
    void evenStreamIdIsRejected() throws Exception {
        sendRequest(2, request("Connect", ByteString.EMPTY));
        assertStatus(Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams", response(2));
    }

    @Test
    void reusedOrDecreasingStreamIdIsRejected() throws Exception {
        sendRequest(5, request("Connect", ByteString.EMPTY));
        response(5);
        sendRequest(5, request("Connect", ByteString.EMPTY));
        assertStatus(Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment", response(5));
        sendRequest(3, request("Connect", ByteString.EMPTY));
        assertStatus(Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment", response(3));
        sendRequest(7, request("Connect", ByteString.EMPTY));
        assertFalse(response(7).hasStatus(), "a higher id is served again");
    }

    @Test
    void oversizedFrameGetsResourceExhaustedAndTheConnectionSurvives() throws Exception {
        var header = Unpooled.buffer().writeInt(Frame.MAX_PAYLOAD + 10).writeInt(1).writeByte(1).writeByte(0);
        channel.writeInbound(header);
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[Frame.MAX_PAYLOAD + 10]));
        assertStatus(Code.RESOURCE_EXHAUSTED, "message length 4194314 exceed maximum message size of 4194304", response(1));
        sendRequest(3, request("Connect", ByteString.EMPTY));
        assertFalse(response(3).hasStatus());
        assertTrue(channel.isActive());
    }

    @Test
    void oversizedResponseBecomesResourceExhausted() throws Exception {
        sendRequest(1, request("Huge", ByteString.EMPTY));
        Response response = response(1);
        assertEquals(Code.RESOURCE_EXHAUSTED.value(), response.getStatus().getCode());
    }

    @Test
    void unknownFrameTypesAndStrayResponsesAreIgnored() throws Exception {
        send(new Frame(1, 0x7f, 0, new byte[] {1, 2, 3}));
        send(new Frame(1, Frame.TYPE_RESPONSE, 0, new byte[0]));
        assertNoResponse();
        sendRequest(1, request("Connect", ByteString.EMPTY));
        assertFalse(response(1).hasStatus());
    }

    @Test
    void streamingFlagsOfTtrpc12ClientsAreTolerated() throws Exception {
        send(new Frame(1, Frame.TYPE_REQUEST, Frame.FLAG_REMOTE_CLOSED,
                request("Connect", ConnectRequest.newBuilder().setId("x").build().toByteString()).toByteArray()));
        assertEquals("x", ConnectResponse.parseFrom(response(1).getPayload()).getVersion());
        send(new Frame(1, Frame.TYPE_DATA, Frame.FLAG_REMOTE_CLOSED | Frame.FLAG_NO_DATA, new byte[0]));
        assertStatus(Code.INVALID_ARGUMENT, "StreamID is no longer active", response(1));
        send(new Frame(3, Frame.TYPE_REQUEST, Frame.FLAG_REMOTE_OPEN, request("Connect", ByteString.EMPTY).toByteArray()));
        assertFalse(response(3).hasStatus());
        assertTrue(channel.isActive());
    }
}
