package io.urunc.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import io.urunc.proto.ttrpc.Response;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The client side of one connection: numbers streams 1, 3, 5... in the order their requests hit the wire
 * (ttrpc 1.2 servers reject decreasing ids), and matches each Response to its pending call.
 */
final class ClientConnectionHandler extends ChannelInboundHandlerAdapter {
    private final Map<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    private volatile ChannelHandlerContext ctx;
    private volatile boolean inactive;
    /** Next stream id, touched on the event loop only. */
    private int nextStreamId = 1;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Sends an encoded Request; the future ends with its Response, an {@link IOException} or a {@link TtrpcException}. */
    CompletableFuture<Response> send(byte[] request, Duration timeout) {
        CompletableFuture<Response> result = new CompletableFuture<>();
        if (request.length > Frame.MAX_PAYLOAD) {
            result.completeExceptionally(TtrpcException.resourceExhausted("message length " + request.length
                    + " exceed maximum message size of " + Frame.MAX_PAYLOAD));
            return result;
        }
        ChannelHandlerContext context = ctx;
        if (context == null || inactive) {
            result.completeExceptionally(new IOException("ttrpc connection is closed"));
            return result;
        }
        context.executor().execute(() -> register(context, request, timeout, result));
        return result;
    }

    private void register(ChannelHandlerContext context, byte[] request, Duration timeout, CompletableFuture<Response> result) {
        if (inactive) {
            result.completeExceptionally(new IOException("ttrpc connection is closed"));
            return;
        }
        int streamId = nextStreamId;
        nextStreamId += 2;
        pending.put(streamId, result);
        if (timeout != null) {
            ScheduledFuture<?> timer = context.executor().schedule(() -> {
                if (pending.remove(streamId, result)) {
                    result.completeExceptionally(TtrpcException.deadlineExceeded(
                            "ttrpc call timed out after " + timeout.toMillis() + " ms"));
                }
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
            result.whenComplete((r, e) -> timer.cancel(false));
        }
        result.whenComplete((r, e) -> pending.remove(streamId, result)); // e.g. cancelled by the caller
        context.writeAndFlush(Frame.request(streamId, request)).addListener((ChannelFutureListener) written -> {
            if (!written.isSuccess() && pending.remove(streamId, result)) {
                result.completeExceptionally(new IOException("cannot send ttrpc request: " + written.cause(), written.cause()));
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case Frame frame when frame.type() == Frame.TYPE_RESPONSE -> {
                CompletableFuture<Response> call = pending.remove(frame.streamId());
                if (call != null) {
                    try {
                        call.complete(Response.parseFrom(frame.payload()));
                    } catch (InvalidProtocolBufferException e) {
                        call.completeExceptionally(TtrpcException.internal("undecodable ttrpc response: " + e.getMessage()));
                    }
                }
            }
            case OversizedFrame oversized -> {
                CompletableFuture<Response> call = pending.remove(oversized.streamId());
                if (call != null) {
                    call.completeExceptionally(TtrpcException.resourceExhausted(oversized.message()));
                }
            }
            default -> {
                // Data frames and unknown types: no streaming calls are made, ignore as Go's client does.
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        failAll(new IOException("ttrpc connection closed"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failAll(new IOException("ttrpc connection failed: " + cause, cause));
        ctx.close();
    }

    private void failAll(IOException cause) {
        pending.forEach((id, call) -> {
            if (pending.remove(id, call)) {
                call.completeExceptionally(cause);
            }
        });
    }

    int pendingCount() {
        return pending.size();
    }
}
