package io.urunc.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PeerCredentialsCheckTest {
    private final AtomicInteger activations = new AtomicInteger();

    private EmbeddedChannel channelWithPeer(Optional<Peer> peer) {
        var check = new PeerCredentialsCheck(1000, 1000, ch -> peer);
        return new EmbeddedChannel(check, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                activations.incrementAndGet();
            }
        });
    }

    @Test
    void peerWithTheSameUidAndGidIsLetThrough() {
        EmbeddedChannel channel = channelWithPeer(Optional.of(new Peer(42, 1000, 1000)));
        assertTrue(channel.isActive());
        assertEquals(1, activations.get());
        assertNull(channel.pipeline().get(PeerCredentialsCheck.class), "checked once, then out of the way");
    }

    @Test
    void peerWithAnotherUidIsClosedBeforeTheServerSeesIt() {
        EmbeddedChannel channel = channelWithPeer(Optional.of(new Peer(42, 0, 1000)));
        assertFalse(channel.isActive());
        assertEquals(0, activations.get());
    }

    @Test
    void peerWithAnotherGidIsClosed() {
        assertFalse(channelWithPeer(Optional.of(new Peer(42, 1000, 0))).isActive());
    }

    @Test
    void peerWithoutCredentialsIsClosed() {
        assertFalse(channelWithPeer(Optional.empty()).isActive());
        assertEquals(0, activations.get());
    }
}
