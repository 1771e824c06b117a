package io.urunc.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.urunc.proto.ttrpc.KeyValue;
import io.urunc.proto.ttrpc.Request;
import io.urunc.proto.ttrpc.Response;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.lang.System.Logger.Level;

/**
 * The server side of one connection: validates streams, decodes requests, runs each handler on the executor
 * (so a blocking call never stalls the others) and writes exactly one Response per accepted request.
 * Protocol errors are answered on their stream, as Go's ttrpc server does; the connection stays open.
 */
final class ServerConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(ServerConnectionHandler.class.getName());

    /** A request being served; whoever removes it from {@link #inFlight} first writes its response. */
    private static final class Call {
        volatile Future<?> work;
        volatile ScheduledFuture<?> deadlineTimer;
    }

    /**
     * Requests one connection may have in flight; beyond it a request is answered RESOURCE_EXHAUSTED at once. containerd
     * keeps a handful per task (a Wait, a State, a Kill); a peer that floods the daemon gets no thread per request.
     */
    static final int MAX_IN_FLIGHT = 256;

    private final ServiceRegistry registry;
    private final ExecutorService executor;
    /** System.nanoTime() of the last request this server started or answered, on any connection. */
    private final AtomicLong lastCall;
    private final Map<Integer, Call> inFlight = new ConcurrentHashMap<>();
    private ChannelHandlerContext ctx;
    /** Highest request stream id seen (unsigned), touched on the event loop only. */
    private int lastStreamId;

    ServerConnectionHandler(ServiceRegistry registry, ExecutorService executor) {
        this(registry, executor, new AtomicLong());
    }

    ServerConnectionHandler(ServiceRegistry registry, ExecutorService executor, AtomicLong lastCall) {
        this.registry = registry;
        this.executor = executor;
        this.lastCall = lastCall;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case OversizedFrame oversized -> reply(oversized.streamId(),
                    Statuses.errorResponse(Code.RESOURCE_EXHAUSTED, oversized.message()));
            case Frame frame -> onFrame(frame);
            default -> ctx.fireChannelRead(msg);
        }
    }

    private void onFrame(Frame frame) {
        if (frame.type() != Frame.TYPE_REQUEST && frame.type() != Frame.TYPE_DATA) {
            LOG.log(Level.DEBUG, "ignoring {0} of unknown or unexpected type", frame);
            return;
        }
        if (!frame.clientInitiated()) {
            replyError(frame.streamId(), Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
            return;
        }
        if (frame.type() == Frame.TYPE_DATA) {
            // Unary methods take no stream data: a 1.2 client's Data on a live stream is dropped.
            if (!inFlight.containsKey(frame.streamId())) {
                replyError(frame.streamId(), Code.INVALID_ARGUMENT, "StreamID is no longer active");
            }
            return;
        }
        if (Integer.compareUnsigned(frame.streamId(), lastStreamId) <= 0) {
            replyError(frame.streamId(), Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment");
            return;
        }
        lastStreamId = frame.streamId();
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            replyError(frame.streamId(), Code.RESOURCE_EXHAUSTED, "too many requests in flight on this connection (limit "
                    + MAX_IN_FLIGHT + ")");
            return;
        }
        Request request;
        try {
            request = Request.parseFrom(frame.payload());
        } catch (InvalidProtocolBufferException e) {
            replyError(frame.streamId(), Code.INVALID_ARGUMENT, "unmarshal request error: " + e.getMessage());
            return;
        }
        ServiceRegistry.Method<?, ?> method;
        try {
            method = registry.lookup(request.getService(), request.getMethod());
        } catch (TtrpcException e) {
            // a newer containerd may call what this shim does not serve: say so where operators look
            LOG.log(Level.INFO, "answered {0}/{1} with {2}: {3}", request.getService(), request.getMethod(), e.code(), e.getMessage());
            reply(frame.streamId(), Statuses.errorResponse(e));
            return;
        }
        start(frame.streamId(), request, method);
    }

    private void start(int streamId, Request request, ServiceRegistry.Method<?, ?> method) {
        Instant deadline = request.getTimeoutNano() > 0 ? Instant.now().plusNanos(request.getTimeoutNano()) : null;
        Call call = new Call();
        lastCall.set(System.nanoTime());
        CallContext context = new CallContext(request.getService(), request.getMethod(), metadataOf(request), deadline,
                () -> inFlight.get(streamId) != call);
        inFlight.put(streamId, call);
        try {
            call.work = executor.submit(() -> finish(streamId, call, invoke(method, request, context)));
        } catch (RejectedExecutionException e) {
            finish(streamId, call, Statuses.errorResponse(Code.UNAVAILABLE, "ttrpc: server shutdown"));
            return;
        }
        if (deadline != null) {
            call.deadlineTimer = ctx.executor().schedule(() -> expire(streamId, call),
                    request.getTimeoutNano(), TimeUnit.NANOSECONDS);
        }
    }

    private static Response invoke(ServiceRegistry.Method<?, ?> method, Request request, CallContext context) {
        try {
            return Response.newBuilder().setPayload(method.invoke(request.getPayload(), context)).build();
        } catch (TtrpcException e) {
            return Statuses.errorResponse(e);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, context.service() + "/" + context.method() + " failed", e);
            return Statuses.errorResponse(Code.UNKNOWN, String.valueOf(e));
        } catch (Throwable e) {
            // an Error (out of memory, stack overflow) from one call: that caller still gets its answer
            LOG.log(Level.ERROR, context.service() + "/" + context.method() + " failed", e);
            return Statuses.errorResponse(Code.INTERNAL, "internal error: " + e);
        }
    }

    private void finish(int streamId, Call call, Response response) {
        lastCall.set(System.nanoTime());
        if (inFlight.remove(streamId, call)) {
            ScheduledFuture<?> timer = call.deadlineTimer;
            if (timer != null) {
                timer.cancel(false);
            }
            reply(streamId, response);
        }
    }

    private void expire(int streamId, Call call) {
        if (inFlight.remove(streamId, call)) {
            cancel(call);
            reply(streamId, Statuses.errorResponse(Code.DEADLINE_EXCEEDED, "context deadline exceeded"));
        }
    }

    private static void cancel(Call call) {
        Future<?> work = call.work;
        if (work != null) {
            work.cancel(true);
        }
        ScheduledFuture<?> timer = call.deadlineTimer;
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private void replyError(int streamId, Code code, String message) {
        reply(streamId, Statuses.errorResponse(code, message));
    }

    private void reply(int streamId, Response response) {
        byte[] payload = response.toByteArray();
        if (payload.length > Frame.MAX_PAYLOAD) {
            payload = Statuses.errorResponse(Code.RESOURCE_EXHAUSTED, "message length " + payload.length
                    + " exceed maximum message size of " + Frame.MAX_PAYLOAD).toByteArray();
        }
        ctx.writeAndFlush(Frame.response(streamId, payload), ctx.voidPromise());
    }

    private static Map<String, List<String>> metadataOf(Request request) {
        if (request.getMetadataCount() == 0) {
            return Map.of();
        }
        Map<String, List<String>> metadata = new LinkedHashMap<>();
        for (KeyValue kv : request.getMetadataList()) {
            metadata.computeIfAbsent(kv.getKey(), k -> new ArrayList<>()).add(kv.getValue());
        }
        metadata.replaceAll((k, v) -> List.copyOf(v));
        return metadata;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The caller is gone: interrupt its handlers, as Go cancels their contexts.
        inFlight.forEach((streamId, call) -> {
            if (inFlight.remove(streamId, call)) {
                cancel(call);
            }
        });
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.DEBUG, "closing ttrpc connection {0}: {1}", ctx.channel(), cause.toString());
        ctx.close();
    }

    int inFlightCount() {
        return inFlight.size();
    }
}
