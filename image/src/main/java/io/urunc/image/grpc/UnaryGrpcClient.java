package io.urunc.image.grpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A minimal gRPC client for unary and server-streaming calls over HTTP/2 cleartext (prior knowledge) on a unix
 * socket, on one Netty epoll event loop thread. Requests and responses are serialized messages (protobuf
 * bytes); no compression, no retries, no load balancing. One connection is opened on first use, shared by
 * concurrent calls, and opened again after it closes. Every call has a deadline, sent as {@code grpc-timeout}
 * and enforced here too. {@link #close()} ends the connection and stops the thread.
 */
public final class UnaryGrpcClient implements AutoCloseable {
    /** Default cap on the bytes of all messages of one response. */
    public static final long DEFAULT_MAX_RESPONSE_BYTES = 4 << 20;
    private static final int WINDOW_BYTES = 1 << 20;

    private final DomainSocketAddress address;
    private final EventLoopGroup group;
    private Channel connection;
    private boolean closed;

    public UnaryGrpcClient(Path socket) {
        this.address = new DomainSocketAddress(socket.toString());
        // the thread starts on first use; daemon, so a client someone forgot to close never holds the JVM up
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("grpc-" + socket.getFileName(), true),
                EpollIoHandler.newFactory());
    }

    /**
     * Calls {@code method} ("/package.Service/Method") with one request message and returns its one response.
     *
     * @param metadata request headers (lowercase ASCII names, e.g. {@code containerd-namespace})
     * @throws GrpcException the call's status when it is not OK
     */
    public byte[] unary(String method, Map<String, String> metadata, byte[] request, Duration timeout) throws GrpcException {
        List<byte[]> responses = call(method, metadata, request, timeout, DEFAULT_MAX_RESPONSE_BYTES);
        if (responses.size() != 1) {
            throw new GrpcException(GrpcCode.INTERNAL, method + ": expected one response message, got " + responses.size());
        }
        return responses.getFirst();
    }

    /** A server-streaming call: every response message, in order, once the server ends the stream with OK. */
    public List<byte[]> serverStreaming(String method, Map<String, String> metadata, byte[] request, Duration timeout,
                                        long maxResponseBytes) throws GrpcException {
        return call(method, metadata, request, timeout, maxResponseBytes);
    }

    private List<byte[]> call(String method, Map<String, String> metadata, byte[] request, Duration timeout,
                              long maxResponseBytes) throws GrpcException {
        Http2Headers headers = requestHeaders(method, metadata, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        Channel parent = connection(timeout);
        GrpcCallHandler handler = new GrpcCallHandler(maxResponseBytes);
        Future<Http2StreamChannel> opening = new Http2StreamChannelBootstrap(parent).handler(handler).open();
        Http2StreamChannel stream = await(opening, deadline, "opening a stream");
        stream.write(new DefaultHttp2HeadersFrame(headers, false));
        stream.writeAndFlush(new DefaultHttp2DataFrame(GrpcFraming.frame(stream.alloc(), request), true))
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        handler.result.completeExceptionally(new GrpcException(GrpcCode.UNAVAILABLE,
                                "sending the request: " + f.cause().getMessage(), f.cause()));
                    }
                });
        try {
            return handler.result.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new GrpcException(GrpcCode.DEADLINE_EXCEEDED, "no answer to " + method + " within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GrpcException(GrpcCode.CANCELLED, "interrupted while waiting for " + method, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof GrpcException g ? g : new GrpcException(GrpcCode.INTERNAL, String.valueOf(e.getCause()), e.getCause());
        } finally {
            stream.close(); // a stream still open (deadline, interrupt) is reset with CANCEL
        }
    }

    private static Http2Headers requestHeaders(String method, Map<String, String> metadata, Duration timeout) {
        if (!method.startsWith("/") || method.indexOf('/', 1) < 0) {
            throw new IllegalArgumentException("gRPC method must look like /package.Service/Method, not " + method);
        }
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("gRPC timeout must be positive, not " + timeout);
        Http2Headers h = new DefaultHttp2Headers()
                .method("POST").scheme("http").path(method).authority("localhost")
                .add("content-type", "application/grpc")
                .add("te", "trailers")
                .add("grpc-timeout", GrpcFraming.timeoutHeader(timeout.toMillis()));
        metadata.forEach((name, value) -> {
            if (name.isEmpty() || name.startsWith(":") || name.startsWith("grpc-") || !name.equals(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("gRPC metadata name must be lowercase and not reserved: " + name);
            }
            h.add(name, value);
        });
        return h;
    }

    private synchronized Channel connection(Duration timeout) throws GrpcException {
        if (closed) throw new GrpcException(GrpcCode.UNAVAILABLE, "client closed");
        if (connection != null && connection.isActive()) return connection;
        ChannelFuture connecting = new Bootstrap()
                .group(group)
                .channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(
                                Http2FrameCodecBuilder.forClient()
                                        .initialSettings(Http2Settings.defaultSettings().initialWindowSize(WINDOW_BYTES).pushEnabled(false))
                                        .build(),
                                new Http2MultiplexHandler(new RefuseServerStreams()),
                                new ForgetOnGoAway());
                    }
                })
                .connect(address);
        await(connecting, System.nanoTime() + timeout.toNanos(), "connecting to " + address.path());
        connection = connecting.channel();
        return connection;
    }

    private <T> T await(Future<T> future, long deadlineNanos, String what) throws GrpcException {
        try {
            if (!future.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                future.cancel(false);
                throw new GrpcException(GrpcCode.DEADLINE_EXCEEDED, what + ": timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(false);
            throw new GrpcException(GrpcCode.CANCELLED, what + ": interrupted", e);
        }
        if (!future.isSuccess()) {
            if (future instanceof ChannelFuture cf) cf.channel().close();
            throw new GrpcException(GrpcCode.UNAVAILABLE, what + ": " + future.cause().getMessage(), future.cause());
        }
        return future.getNow();
    }

    /** Once the server says GOAWAY, calls in flight finish on this connection; new ones open another. */
    private final class ForgetOnGoAway extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2GoAwayFrame) {
                synchronized (UnaryGrpcClient.this) {
                    if (connection == ctx.channel()) connection = null;
                }
            }
            ReferenceCountUtil.release(msg);
        }
    }

    /** Servers do not open streams towards a client; should one try, its stream is closed at once. */
    private static final class RefuseServerStreams extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.close();
        }
    }

    @Override
    public void close() {
        Channel ch;
        synchronized (this) {
            if (closed) return;
            closed = true;
            ch = connection;
            connection = null;
        }
        if (ch != null) ch.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
}
