package io.urunc.shim.runc;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.urunc.shim.io.OwnerOnly;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * runc's {@code --console-socket}: a unix socket on which runc sends the container's pty master over
 * SCM_RIGHTS. One socket per container, closed once the master has arrived.
 */
final class ConsoleSocket implements AutoCloseable {
    private static volatile EventLoopGroup group;

    private final Path path;
    private final Channel server;
    private final CompletableFuture<FileDescriptor> master = new CompletableFuture<>();
    private volatile boolean taken;

    private ConsoleSocket(Path path) throws IOException {
        this.path = path;
        OwnerOnly.directory(path.getParent());
        Files.deleteIfExists(path);
        try {
            server = new ServerBootstrap()
                    .group(group())
                    .channel(EpollServerDomainSocketChannel.class)
                    .childOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                    .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                        @Override
                        protected void initChannel(EpollDomainSocketChannel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    if (msg instanceof FileDescriptor fd && !master.complete(fd)) closeQuietly(fd);
                                    ctx.close();
                                }
                            });
                        }
                    })
                    .bind(new DomainSocketAddress(path.toString()))
                    .syncUninterruptibly()
                    .channel();
        } catch (Exception e) { // bind errors come back undeclared
            throw new IOException("cannot listen on console socket " + path + ": " + e.getMessage(), e);
        }
        OwnerOnly.file(path);
    }

    static ConsoleSocket listen(Path path) throws IOException {
        return new ConsoleSocket(path);
    }

    Path path() {
        return path;
    }

    /** The pty master runc sent; fails if it has not come within the timeout. */
    FileDescriptor awaitMaster(Duration timeout) throws IOException {
        try {
            FileDescriptor fd = master.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            taken = true;
            return fd;
        } catch (Exception e) {
            throw new IOException("runc sent no pty master on " + path + " within " + timeout.toSeconds() + " s");
        }
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // in the run dir, removed with it
        }
        // A master that arrived but was never taken (Create failed meanwhile) is ours to close.
        if (!master.cancel(false) && !taken) closeQuietly(master.join());
    }

    static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static EventLoopGroup group() throws IOException {
        if (group == null) {
            synchronized (ConsoleSocket.class) {
                if (group == null) {
                    if (!Epoll.isAvailable()) {
                        throw new IOException("netty epoll is unavailable: " + Epoll.unavailabilityCause());
                    }
                    group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("console-socket", true),
                            EpollIoHandler.newFactory());
                }
            }
        }
        return group;
    }
}
