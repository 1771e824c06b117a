package io.urunc.image.grpc;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A scripted HTTP/2 server on a unix socket, for testing the client against real frames: each request
 * (headers + body, once END_STREAM arrives) is recorded and handed to the test's {@link Responder}.
 */
public final class FakeGrpcServer implements AutoCloseable {
    public static final String THREAD_PREFIX = "fake-grpc-server";

    public record Request(Http2Headers headers, byte[] body) {
    }

    public interface Responder {
        void respond(Request request, Http2StreamChannel stream);
    }

    public final BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
    public final BlockingQueue<String> resets = new LinkedBlockingQueue<>();
    public final Queue<Channel> accepted = new ConcurrentLinkedQueue<>();
    public final Path socket;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(THREAD_PREFIX, true),
            EpollIoHandler.newFactory());
    private final Channel server;

    public FakeGrpcServer(Path dir, Responder responder) throws InterruptedException {
        socket = dir.resolve("grpc.sock");
        server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.add(ch);
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                        stream.pipeline().addLast(new StreamHandler(responder));
                                    }
                                }));
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).sync().channel();
    }

    private final class StreamHandler extends ChannelInboundHandlerAdapter {
        private final Responder responder;
        private Http2Headers headers;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        StreamHandler(Responder responder) {
            this.responder = responder;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            // Http2MultiplexHandler hands RST_STREAM to stream channels as a user event
            if (evt instanceof Http2ResetFrame r) resets.add(Http2Error.valueOf(r.errorCode()).name());
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                boolean end = false;
                if (msg instanceof Http2HeadersFrame h) {
                    headers = h.headers();
                    end = h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    byte[] bytes = ByteBufUtil.getBytes(d.content());
                    body.writeBytes(bytes);
                    end = d.isEndStream();
                }
                if (end) {
                    Request req = new Request(headers, body.toByteArray());
                    requests.add(req);
                    responder.respond(req, (Http2StreamChannel) ctx.channel());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    /** The message bytes of a gRPC request body (one message, not compressed). */
    public static byte[] unframe(byte[] body) {
        ByteBuf b = Unpooled.wrappedBuffer(body);
        if (b.readByte() != 0) throw new AssertionError("compressed flag set");
        int len = b.readInt();
        if (len != b.readableBytes()) throw new AssertionError("length prefix " + len + " but " + b.readableBytes() + " bytes follow");
        return ByteBufUtil.getBytes(b);
    }

    public static byte[] framed(byte[] message) {
        ByteBuf buf = GrpcFraming.frame(UnpooledByteBufAllocator.DEFAULT, message);
        try {
            return ByteBufUtil.getBytes(buf);
        } finally {
            buf.release();
        }
    }

    public static Http2Headers okHeaders() {
        return new DefaultHttp2Headers().status("200").add("content-type", "application/grpc");
    }

    public static Http2Headers trailers(int status, String encodedMessage) {
        Http2Headers h = new DefaultHttp2Headers().add("grpc-status", Integer.toString(status));
        if (encodedMessage != null) h.add("grpc-message", encodedMessage);
        return h;
    }

    public static void send(Http2StreamChannel stream, Http2Headers headers, boolean end) {
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, end));
    }

    public static void send(Http2StreamChannel stream, byte[] data) {
        stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(data), false));
    }

    /** Answers with each message, split into DATA frames of {@code chunk} bytes, then OK trailers. */
    public static Responder answering(int chunk, byte[]... messages) {
        return (req, stream) -> {
            send(stream, okHeaders(), false);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (byte[] m : messages) all.writeBytes(framed(m));
            byte[] bytes = all.toByteArray();
            for (int i = 0; i < bytes.length; i += chunk) {
                send(stream, java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + chunk)));
            }
            send(stream, trailers(0, null), true);
        };
    }

    /** Drops every open connection (the listening socket stays). */
    public void dropConnections() {
        for (Channel ch : accepted) ch.close().syncUninterruptibly();
    }

    @Override
    public void close() throws Exception {
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        Files.deleteIfExists(socket);
    }
}
