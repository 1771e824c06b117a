package io.urunc.shim;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
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
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.urunc.image.containerd.api.Container;
import io.urunc.image.containerd.api.Descriptor;
import io.urunc.image.containerd.api.GetContainerRequest;
import io.urunc.image.containerd.api.GetContainerResponse;
import io.urunc.image.containerd.api.GetImageRequest;
import io.urunc.image.containerd.api.GetImageResponse;
import io.urunc.image.containerd.api.Image;
import io.urunc.image.containerd.api.ReadContentRequest;
import io.urunc.image.containerd.api.ReadContentResponse;
import io.urunc.proto.events.ttrpc.ForwardRequest;
import io.urunc.ttrpc.TtrpcServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * The containerd the AOT training run's daemon talks to, in the training JVM: the gRPC calls a Create makes
 * (Containers.Get, Images.Get, Content.Read of an index, a manifest and a config) answered over HTTP/2 on a unix
 * socket, and the ttrpc event service ({@code <socket>.ttrpc}) the daemon publishes task events to. It knows one
 * container, {@link #CONTAINER}, of one image whose unikernel metadata is in its manifest's annotations, as a
 * urunc image's is; any other container or image is NOT_FOUND, any other method UNIMPLEMENTED. It is training input,
 * so that the daemon's first Create runs code the cache has seen: it checks nothing of what it is sent.
 */
final class TrainingContainerd implements AutoCloseable {
    static final String CONTAINER = "task";
    /** The training's second task, the one with a network attach ({@link Training}). */
    static final String NETWORK_CONTAINER = "task-net";
    static final String IMAGE = "urunc.training/unikernel:latest";
    private static final String EVENTS = "containerd.services.events.ttrpc.v1.Events";
    private static final int OK = 0, NOT_FOUND = 5, UNIMPLEMENTED = 12;

    /** The calls answered, as "/service/Method target", and the event topics received, in order. */
    final ConcurrentLinkedQueue<String> calls = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
    final Path socket;
    private final Map<String, byte[]> blobs;
    private final Descriptor index;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new DefaultThreadFactory("training-containerd", true), EpollIoHandler.newFactory());
    private final Channel server;
    private final TtrpcServer eventService;

    /** Serves on {@code socket} (gRPC) and {@code socket.ttrpc} (events) for an image of {@code annotations}. */
    TrainingContainerd(Path socket, Map<String, String> annotations) throws IOException, InterruptedException {
        this.socket = socket;
        byte[] config = """
                {"architecture": "amd64", "os": "linux", "config": {"Labels": {"com.urunc.unikernel.training": "true"}},
                 "rootfs": {"type": "layers", "diff_ids": []}}""".getBytes(StandardCharsets.UTF_8);
        StringBuilder kept = new StringBuilder();
        annotations.forEach((k, v) -> kept.append(kept.isEmpty() ? "" : ", ").append('"').append(k).append("\": \"").append(v).append('"'));
        byte[] manifest = ("""
                {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                 "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "%s", "size": %d},
                 "layers": [], "annotations": {%s}}""".formatted(digest(config), config.length, kept))
                .getBytes(StandardCharsets.UTF_8);
        byte[] indexJson = ("""
                {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "%s", "size": %d,
                                "platform": {"architecture": "amd64", "os": "linux"}},
                               {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "%s", "size": %d,
                                "platform": {"architecture": "arm64", "os": "linux"}}]}""")
                .formatted(digest(manifest), manifest.length, digest(manifest), manifest.length).getBytes(StandardCharsets.UTF_8);
        this.blobs = Map.of(digest(config), config, digest(manifest), manifest, digest(indexJson), indexJson);
        this.index = Descriptor.newBuilder().setMediaType("application/vnd.oci.image.index.v1+json")
                .setDigest(digest(indexJson)).setSize(indexJson.length).build();
        Files.deleteIfExists(socket);
        this.server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                    @Override
                                    protected void initChannel(Http2StreamChannel stream) {
                                        stream.pipeline().addLast(new Call());
                                    }
                                }));
                    }
                })
                .bind(new DomainSocketAddress(socket.toString())).sync().channel();
        this.eventService = TtrpcServer.builder()
                .register(EVENTS, "Forward", ForwardRequest.parser(), (req, ctx) -> {
                    events.add(req.getEnvelope().getTopic());
                    return Empty.getDefaultInstance();
                })
                .build();
        eventService.bind(Path.of(socket + ".ttrpc"));
    }

    /** One request stream: its headers and body, answered once the client ends it. */
    private final class Call extends ChannelInboundHandlerAdapter {
        private String path = "";
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                boolean end = false;
                if (msg instanceof Http2HeadersFrame h) {
                    path = String.valueOf(h.headers().path());
                    end = h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    ByteBuf content = d.content();
                    byte[] bytes = new byte[content.readableBytes()];
                    content.readBytes(bytes);
                    body.writeBytes(bytes);
                    end = d.isEndStream();
                }
                if (end) answer((Http2StreamChannel) ctx.channel(), path, message(body.toByteArray()));
            } catch (InvalidProtocolBufferException e) {
                trailers((Http2StreamChannel) ctx.channel(), 3, true);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
    }

    private void answer(Http2StreamChannel stream, String path, byte[] request) throws InvalidProtocolBufferException {
        switch (path) {
            case "/containerd.services.containers.v1.Containers/Get" -> {
                String id = GetContainerRequest.parseFrom(request).getId();
                calls.add(path + " " + id);
                if (!id.equals(CONTAINER) && !id.equals(NETWORK_CONTAINER)) {
                    trailers(stream, NOT_FOUND, true);
                    return;
                }
                reply(stream, List.of(GetContainerResponse.newBuilder().setContainer(Container.newBuilder().setId(id)
                        .setImage(IMAGE).putLabels("io.containerd.image.config.stop-signal", "SIGTERM")
                        .setSnapshotter("overlayfs").setSnapshotKey(id)).build()));
            }
            case "/containerd.services.images.v1.Images/Get" -> {
                String name = GetImageRequest.parseFrom(request).getName();
                calls.add(path + " " + name);
                if (!name.equals(IMAGE)) {
                    trailers(stream, NOT_FOUND, true);
                    return;
                }
                reply(stream, List.of(GetImageResponse.newBuilder().setImage(Image.newBuilder().setName(name)
                        .setTarget(index)).build()));
            }
            case "/containerd.services.content.v1.Content/Read" -> {
                String digest = ReadContentRequest.parseFrom(request).getDigest();
                calls.add(path + " " + digest);
                byte[] blob = blobs.get(digest);
                if (blob == null) {
                    trailers(stream, NOT_FOUND, true);
                    return;
                }
                // in two messages, as containerd streams a blob in chunks
                int half = blob.length / 2;
                reply(stream, List.of(
                        ReadContentResponse.newBuilder().setOffset(0).setData(ByteString.copyFrom(blob, 0, half)).build(),
                        ReadContentResponse.newBuilder().setOffset(half).setData(ByteString.copyFrom(blob, half, blob.length - half)).build()));
            }
            default -> {
                calls.add(path);
                trailers(stream, UNIMPLEMENTED, true);
            }
        }
    }

    private static void reply(Http2StreamChannel stream, List<? extends Message> messages) {
        stream.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200").add("content-type", "application/grpc"), false));
        for (Message m : messages) {
            byte[] bytes = m.toByteArray();
            ByteBuf framed = Unpooled.buffer(5 + bytes.length).writeByte(0).writeInt(bytes.length).writeBytes(bytes);
            stream.write(new DefaultHttp2DataFrame(framed, false));
        }
        trailers(stream, OK, false);
    }

    /** The call's status: trailers after a response, or a trailers-only response ({@code alone}). */
    private static void trailers(Http2StreamChannel stream, int status, boolean alone) {
        DefaultHttp2Headers h = new DefaultHttp2Headers();
        if (alone) h.status("200").add("content-type", "application/grpc");
        h.add("grpc-status", Integer.toString(status));
        stream.writeAndFlush(new DefaultHttp2HeadersFrame(h, true));
    }

    private static byte[] message(byte[] body) throws InvalidProtocolBufferException {
        if (body.length < 5 || body[0] != 0) throw new InvalidProtocolBufferException("not one uncompressed gRPC message");
        int length = (body[1] & 0xff) << 24 | (body[2] & 0xff) << 16 | (body[3] & 0xff) << 8 | (body[4] & 0xff);
        if (length != body.length - 5) throw new InvalidProtocolBufferException("gRPC length prefix does not match the body");
        return java.util.Arrays.copyOfRange(body, 5, body.length);
    }

    static String digest(byte[] blob) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        eventService.close();
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
        Files.deleteIfExists(socket);
        Files.deleteIfExists(Path.of(socket + ".ttrpc"));
    }
}
