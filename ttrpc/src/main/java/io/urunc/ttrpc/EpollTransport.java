package io.urunc.ttrpc;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Netty epoll unix-socket plumbing shared by the server and the client. */
final class EpollTransport {
    /** sun_path holds 108 bytes including the terminating NUL. */
    static final int MAX_SOCKET_PATH_BYTES = 107;

    private EpollTransport() {
    }

    static EventLoopGroup newEventLoop(String name) throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("netty epoll transport is unavailable (ttrpc needs Linux with the native library"
                    + " and --enable-native-access=ALL-UNNAMED)", Epoll.unavailabilityCause());
        }
        // One daemon thread: a shim serves a handful of connections, and handlers run elsewhere.
        return new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(name, true), EpollIoHandler.newFactory());
    }

    static void shutdown(EventLoopGroup group) {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    static String checkedSocketPath(Path socket) throws IOException {
        String path = socket.toAbsolutePath().toString();
        int bytes = path.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw new IOException("unix socket path " + path + " is " + bytes + " bytes, more than the "
                    + MAX_SOCKET_PATH_BYTES + " a sockaddr_un can hold");
        }
        return path;
    }

    static Optional<Peer> peerOf(Channel channel) {
        if (!(channel instanceof EpollDomainSocketChannel domain)) {
            return Optional.empty();
        }
        try {
            PeerCredentials credentials = domain.peerCredentials();
            int[] gids = credentials.gids();
            return Optional.of(new Peer(credentials.pid(), credentials.uid(), gids.length > 0 ? gids[0] : -1));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** This process's effective uid and gid: the owner of {@code /proc/self}. */
    static int[] ownUidGid() throws IOException {
        Path self = Path.of("/proc/self");
        return new int[] {(Integer) Files.getAttribute(self, "unix:uid"), (Integer) Files.getAttribute(self, "unix:gid")};
    }
}
