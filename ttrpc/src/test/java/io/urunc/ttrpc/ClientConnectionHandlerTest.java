package io.urunc.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.urunc.proto.rpc.Status;
import io.urunc.proto.ttrpc.Response;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ClientConnectionHandlerTest {
    private ClientConnectionHandler handler;
    private EmbeddedChannel channel;

    @AfterEach
    void releaseUnreadFrames() {
        channel.finishAndReleaseAll();
    }

    @BeforeEach
    void setUp() {
        handler = new ClientConnectionHandler();
        channel = new EmbeddedChannel(new FrameDecoder(), FrameEncoder.INSTANCE, handler);
    }

    private int sentStreamId() {
        channel.runPendingTasks();
        ByteBuf out = channel.readOutbound();
        try {
            out.skipBytes(4);
            int id = out.readInt();
            assertEquals(Frame.TYPE_REQUEST, out.readByte());
            assertEquals(0, out.readByte(), "unary requests carry no flags");
            return id;
        } finally {
            out.release();
        }
    }

    private void receive(int streamId, Response response) {
        byte[] payload = response.toByteArray();
        channel.writeInbound(Unpooled.buffer().writeInt(payload.length).writeInt(streamId)
                .writeByte(Frame.TYPE_RESPONSE).writeByte(0).writeBytes(payload));
    }

    private static Throwable failureOf(CompletableFuture<?> future) {
        assertTrue(future.isDone());
        return assertThrows(ExecutionException.class, future::get).getCause();
    }

    @Test
    void streamIdsAreOddAndIncreaseByTwo() {
        handler.send(new byte[0], null);
        handler.send(new byte[0], null);
        handler.send(new byte[0], null);
        assertEquals(1, sentStreamId());
        assertEquals(3, sentStreamId());
        assertEquals(5, sentStreamId());
    }

    @Test
    void responsesAreMatchedOutOfOrder() throws Exception {
        CompletableFuture<Response> first = handler.send(new byte[0], null);
        CompletableFuture<Response> second = handler.send(new byte[0], null);
        channel.runPendingTasks();
        receive(3, Response.newBuilder().setPayload(com.google.protobuf.ByteString.copyFromUtf8("two")).build());
        assertFalse(first.isDone());
        assertEquals("two", second.get().getPayload().toStringUtf8());
        receive(1, Response.getDefaultInstance());
        assertEquals(Response.getDefaultInstance(), first.get());
        assertEquals(0, handler.pendingCount());
    }

    @Test
    void responseForAnUnknownStreamIsIgnored() {
        CompletableFuture<Response> call = handler.send(new byte[0], null);
        channel.runPendingTasks();
        receive(99, Response.getDefaultInstance());
        assertFalse(call.isDone());
        assertTrue(channel.isActive());
    }

    @Test
    void errorStatusIsReportedAsItsCode() {
        Response notFound = Response.newBuilder().setStatus(Status.newBuilder().setCode(5).setMessage("gone")).build();
        TtrpcException e = Statuses.failureOf(notFound);
        assertEquals(Code.NOT_FOUND, e.code());
        assertEquals("gone", e.getMessage());
        assertNull(Statuses.failureOf(Response.getDefaultInstance()));
        assertNull(Statuses.failureOf(Response.newBuilder().setStatus(Status.getDefaultInstance()).build()));
    }

    @Test
    void oversizedResponseFailsOnlyItsCall() {
        CompletableFuture<Response> big = handler.send(new byte[0], null);
        CompletableFuture<Response> other = handler.send(new byte[0], null);
        channel.runPendingTasks();
        channel.writeInbound(Unpooled.buffer().writeInt(Frame.MAX_PAYLOAD + 1).writeInt(1).writeByte(2).writeByte(0));
        assertEquals(Code.RESOURCE_EXHAUSTED, assertInstanceOf(TtrpcException.class, failureOf(big)).code());
        assertFalse(other.isDone());
    }

    @Test
    void oversizedRequestIsRefusedWithoutSending() {
        CompletableFuture<Response> call = handler.send(new byte[Frame.MAX_PAYLOAD + 1], null);
        assertEquals(Code.RESOURCE_EXHAUSTED, assertInstanceOf(TtrpcException.class, failureOf(call)).code());
        channel.runPendingTasks();
        assertNull(channel.readOutbound());
    }

    @Test
    void closedConnectionFailsPendingAndLaterCallsWithIOException() {
        CompletableFuture<Response> call = handler.send(new byte[0], null);
        channel.runPendingTasks();
        channel.close();
        assertInstanceOf(IOException.class, failureOf(call));
        assertInstanceOf(IOException.class, failureOf(handler.send(new byte[0], null)));
    }
}
