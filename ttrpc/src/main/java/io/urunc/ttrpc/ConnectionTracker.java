package io.urunc.ttrpc;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/** Counts the accepted connections and remembers them so the server can close them. */
@ChannelHandler.Sharable
final class ConnectionTracker extends ChannelInboundHandlerAdapter {
    private final Set<Channel> open = ConcurrentHashMap.newKeySet();
    private final IntConsumer listener;

    ConnectionTracker(IntConsumer listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (open.add(ctx.channel())) {
            listener.accept(open.size());
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (open.remove(ctx.channel())) {
            listener.accept(open.size());
        }
        ctx.fireChannelInactive();
    }

    int count() {
        return open.size();
    }

    Set<Channel> channels() {
        return Set.copyOf(open);
    }
}
