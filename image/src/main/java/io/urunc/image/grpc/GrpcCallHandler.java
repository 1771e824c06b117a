package io.urunc.image.grpc;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The response side of one call, on its HTTP/2 stream channel: response headers, length-prefixed messages in
 * DATA frames, then trailers (or one trailers-only HEADERS frame). Completes {@link #result} once.
 */
final class GrpcCallHandler extends ChannelInboundHandlerAdapter {
    final CompletableFuture<List<byte[]>> result = new CompletableFuture<>();
    private final GrpcDeframer deframer;
    private boolean sawResponseHeaders;

    GrpcCallHandler(long maxResponseBytes) {
        this.deframer = new GrpcDeframer(maxResponseBytes);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case Http2HeadersFrame h -> onHeaders(h);
                case Http2DataFrame d -> {
                    deframer.feed(d.content());
                    if (d.isEndStream()) throw new GrpcException(GrpcCode.INTERNAL, "the stream ended without a grpc-status");
                }
                default -> {
                    // PUSH_PROMISE, unknown frames: nothing a unary client uses
                }
            }
        } catch (GrpcException e) {
            result.completeExceptionally(e);
        } finally {
            ReferenceCountUtil.release(msg);
        }
        if (result.isDone()) ctx.close();
    }

    private void onHeaders(Http2HeadersFrame frame) throws GrpcException {
        Http2Headers headers = frame.headers();
        if (!sawResponseHeaders) {
            sawResponseHeaders = true;
            CharSequence status = headers.status();
            int httpStatus = status == null ? 0 : parseStatus(status);
            if (httpStatus != 200) {
                throw new GrpcException(GrpcCode.ofHttpStatus(httpStatus), "HTTP status " + status + " from the server");
            }
            CharSequence type = headers.get("content-type");
            if (type == null || !type.toString().startsWith("application/grpc")) {
                throw new GrpcException(GrpcCode.UNKNOWN, "the server answered with content-type " + type + ", not application/grpc");
            }
            if (!frame.isEndStream()) return;
        }
        if (!frame.isEndStream()) {
            throw new GrpcException(GrpcCode.INTERNAL, "the server sent a second HEADERS frame without END_STREAM");
        }
        onTrailers(headers);
    }

    private void onTrailers(Http2Headers trailers) throws GrpcException {
        CharSequence status = trailers.get("grpc-status");
        if (status == null) {
            throw new GrpcException(GrpcCode.INTERNAL, "the response has no grpc-status");
        }
        GrpcCode code = GrpcCode.ofWireValue(status.toString());
        CharSequence message = trailers.get("grpc-message");
        String description = message == null ? "" : GrpcFraming.decodeMessage(message);
        if (code != GrpcCode.OK) {
            throw new GrpcException(code, description);
        } else if (deframer.midMessage()) {
            throw new GrpcException(GrpcCode.INTERNAL, "the response ended in the middle of a message");
        } else {
            result.complete(deframer.messages());
        }
    }

    /** What a RST_STREAM from the server means (gRPC's HTTP/2 error code mapping). */
    private static GrpcException resetStatus(long errorCode) {
        Http2Error error = Http2Error.valueOf(errorCode);
        GrpcCode code = error == null ? GrpcCode.INTERNAL : switch (error) {
            case REFUSED_STREAM -> GrpcCode.UNAVAILABLE;
            case CANCEL -> GrpcCode.CANCELLED;
            case ENHANCE_YOUR_CALM -> GrpcCode.RESOURCE_EXHAUSTED;
            case INADEQUATE_SECURITY -> GrpcCode.PERMISSION_DENIED;
            default -> GrpcCode.INTERNAL;
        };
        return new GrpcException(code, "the server reset the stream (" + (error == null ? "error " + errorCode : error.name()) + ")");
    }

    private static int parseStatus(CharSequence status) {
        try {
            return Integer.parseInt(status.toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // Http2MultiplexHandler hands RST_STREAM to the stream channel as a user event, not as a read
        if (evt instanceof Http2ResetFrame r) result.completeExceptionally(resetStatus(r.errorCode()));
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        result.completeExceptionally(new GrpcException(GrpcCode.UNAVAILABLE, "the stream closed before the call completed"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        result.completeExceptionally(new GrpcException(GrpcCode.INTERNAL, String.valueOf(cause.getMessage()), cause));
        ctx.close();
    }
}
