package io.urunc.ttrpc;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A ttrpc server on a unix socket. Accepts only peers with this process's uid and gid; serves each request on
 * the executor, so one blocking handler (a task's Wait) never stalls other calls on the same connection.
 *
 * <pre>{@code
 * TtrpcServer server = TtrpcServer.builder()
 *     .register("containerd.task.v2.Task", "Connect", ConnectRequest.parser(), (req, ctx) -> ...)
 *     .build();
 * server.bind(Path.of("/run/containerd/s/abc"));
 * }</pre>
 */
public final class TtrpcServer implements AutoCloseable {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private final ServiceRegistry registry;
    private final ExecutorService executor;
    private final boolean ownsExecutor;
    private final ConnectionTracker connections;
    private final AtomicLong lastCall = new AtomicLong(System.nanoTime());
    private EventLoopGroup eventLoop;
    private Channel serverChannel;
    private Path socket;
    private boolean closed;

    private TtrpcServer(Builder builder) {
        this.registry = builder.registry.build();
        this.ownsExecutor = builder.executor == null;
        this.executor = ownsExecutor ? Executors.newVirtualThreadPerTaskExecutor() : builder.executor;
        this.connections = new ConnectionTracker(builder.connectionListener);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Creates the socket with mode 0600 and starts serving. A stale socket file (nobody listening) is replaced;
     * a live one, or any other kind of file, is an error.
     */
    public synchronized void bind(Path socket) throws IOException {
        if (closed) {
            throw new IllegalStateException("ttrpc server is closed");
        }
        if (serverChannel != null) {
            throw new IllegalStateException("ttrpc server is already bound to " + this.socket);
        }
        String path = EpollTransport.checkedSocketPath(socket);
        removeStaleSocket(socket);
        int[] self = EpollTransport.ownUidGid();
        PeerCredentialsCheck peerCheck = new PeerCredentialsCheck(self[0], self[1], EpollTransport::peerOf);
        EventLoopGroup group = EpollTransport.newEventLoop("ttrpc-server");
        try {
            serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                        @Override
                        protected void initChannel(EpollDomainSocketChannel channel) {
                            channel.pipeline().addLast(peerCheck, connections, new FrameDecoder(),
                                    FrameEncoder.INSTANCE, new ServerConnectionHandler(registry, executor, lastCall));
                        }
                    })
                    .bind(new DomainSocketAddress(path))
                    .syncUninterruptibly()
                    .channel();
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (Exception e) { // syncUninterruptibly() rethrows checked bind errors undeclared
            if (serverChannel != null) {
                serverChannel.close().syncUninterruptibly();
                serverChannel = null;
            }
            EpollTransport.shutdown(group);
            throw new IOException("cannot bind ttrpc server to " + path + ": " + e, e);
        }
        this.eventLoop = group;
        this.socket = socket;
    }

    private static void removeStaleSocket(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(socket.toAbsolutePath().getParent())) {
                throw new IOException("cannot bind ttrpc server to " + socket + ": directory "
                        + socket.toAbsolutePath().getParent() + " does not exist");
            }
            return;
        }
        int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException("cannot bind ttrpc server to " + socket + ": the path exists and is not a socket");
        }
        if (isListening(socket)) {
            throw new IOException("cannot bind ttrpc server to " + socket + ": address already in use by a running server");
        }
        Files.deleteIfExists(socket);
    }

    private static boolean isListening(Path socket) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    public int openConnections() {
        return connections.count();
    }

    /** {@link System#nanoTime()} when a request last began or was answered (or the server was built, before any). */
    public long lastCallNanos() {
        return lastCall.get();
    }

    /** Stops accepting, closes the connections, releases the event loop and removes the socket file. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly();
        }
        for (Channel channel : connections.channels()) {
            channel.close().awaitUninterruptibly();
        }
        if (ownsExecutor) {
            executor.shutdownNow();
        }
        if (eventLoop != null) {
            EpollTransport.shutdown(eventLoop);
        }
        if (socket != null) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // the directory went away first: nothing left to clean
            }
        }
    }

    public static final class Builder {
        private final ServiceRegistry.Builder registry = new ServiceRegistry.Builder();
        private ExecutorService executor;
        private IntConsumer connectionListener = count -> { };

        private Builder() {
        }

        /** Serves {@code service/method}; its request payload is decoded with {@code parser}. */
        public <Req extends Message, Resp extends Message> Builder register(String service, String method,
                Parser<Req> parser, UnaryHandler<Req, Resp> handler) {
            registry.add(service, method, parser, handler);
            return this;
        }

        /** Where handlers run (default: a virtual thread per request, shut down with the server). */
        public Builder executor(ExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** Told the number of open connections whenever one opens or closes (on the event loop thread). */
        public Builder connectionListener(IntConsumer openConnections) {
            this.connectionListener = Objects.requireNonNull(openConnections, "connectionListener");
            return this;
        }

        public TtrpcServer build() {
            return new TtrpcServer(this);
        }
    }
}
