package io.urunc.ttrpc;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.Optional;
import java.util.function.Function;
import java.lang.System.Logger.Level;

/**
 * Closes a connection whose peer runs as another user or group than this server, as Go's
 * {@code ttrpc.UnixSocketRequireSameUser} does for containerd's shims; the rest of the pipeline never sees it.
 */
@ChannelHandler.Sharable
final class PeerCredentialsCheck extends ChannelInboundHandlerAdapter {
    private static final System.Logger LOG = System.getLogger(PeerCredentialsCheck.class.getName());

    private final int uid;
    private final int gid;
    private final Function<Channel, Optional<Peer>> credentials;

    /** @param credentials the peer of a channel, empty when the kernel did not tell */
    PeerCredentialsCheck(int uid, int gid, Function<Channel, Optional<Peer>> credentials) {
        this.uid = uid;
        this.gid = gid;
        this.credentials = credentials;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Optional<Peer> peer = credentials.apply(ctx.channel());
        if (peer.isPresent() && peer.get().uid() == uid && peer.get().gid() == gid) {
            ctx.pipeline().remove(this);
            ctx.fireChannelActive();
            return;
        }
        LOG.log(Level.WARNING, "refusing ttrpc connection from {0}: server runs as uid {1} gid {2}",
                peer.map(Peer::toString).orElse("a peer without credentials"), uid, gid);
        ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // Bytes that arrived before the check closed the connection are dropped.
        io.netty.util.ReferenceCountUtil.release(msg);
    }
}
