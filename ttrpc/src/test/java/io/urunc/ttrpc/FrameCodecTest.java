package io.urunc.ttrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] encode(Frame frame) {
        EmbeddedChannel channel = new EmbeddedChannel(FrameEncoder.INSTANCE);
        channel.writeOutbound(frame);
        ByteBuf out = channel.readOutbound();
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        out.release();
        return bytes;
    }

    @Test
    void emptyResponseIsABareTenByteHeader() {
        // containerd 1.6.20's Pause/Resume answer, as observed on the wire
        assertArrayEquals(HEX.parseHex("00000000" + "0000000d" + "02" + "00"), encode(Frame.response(13, new byte[0])));
    }

    @Test
    void headerIsBigEndianLengthStreamTypeFlags() {
        byte[] bytes = encode(new Frame(0x01020305, Frame.TYPE_DATA, Frame.FLAG_REMOTE_CLOSED, new byte[] {9, 8, 7}));
        assertArrayEquals(HEX.parseHex("00000003" + "01020305" + "03" + "01" + "090807"), bytes);
    }

    @Test
    void encoderRefusesPayloadsOverFourMebibytes() {
        assertThrows(IllegalArgumentException.class, () -> new Frame(1, 1, 0, new byte[Frame.MAX_PAYLOAD + 1]));
    }

    @Test
    void decodesAFrameSplitByteByByte() {
        byte[] wire = encode(new Frame(9, Frame.TYPE_REQUEST, 0, "hello".getBytes()));
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        for (int i = 0; i < wire.length - 1; i++) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {wire[i]}));
            assertNull(channel.readInbound(), "no frame before its last byte");
        }
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {wire[wire.length - 1]}));
        Frame frame = channel.readInbound();
        assertEquals(9, frame.streamId());
        assertEquals(Frame.TYPE_REQUEST, frame.type());
        assertArrayEquals("hello".getBytes(), frame.payload());
    }

    @Test
    void decodesCoalescedFramesFromOneRead() {
        byte[] a = encode(new Frame(1, Frame.TYPE_REQUEST, 0, new byte[] {1}));
        byte[] b = encode(new Frame(3, Frame.TYPE_REQUEST, 0, new byte[0]));
        byte[] c = encode(new Frame(5, Frame.TYPE_DATA, Frame.FLAG_NO_DATA, new byte[] {2, 3}));
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(a, b, c));
        assertEquals(1, ((Frame) channel.readInbound()).streamId());
        Frame second = channel.readInbound();
        assertEquals(3, second.streamId());
        assertEquals(0, second.payload().length);
        Frame third = channel.readInbound();
        assertEquals(Frame.FLAG_NO_DATA, third.flags());
        assertArrayEquals(new byte[] {2, 3}, third.payload());
    }

    @Test
    void streamIdsAboveTwoToThe31AreKeptUnsigned() {
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(HEX.parseHex("00000000" + "ffffffff" + "01" + "00")));
        Frame frame = channel.readInbound();
        assertEquals("4294967295", Integer.toUnsignedString(frame.streamId()));
    }

    @Test
    void oversizedFrameIsSkippedAcrossReadsAndTheNextFrameStillDecodes() {
        int length = Frame.MAX_PAYLOAD + 1;
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        ByteBuf header = Unpooled.buffer().writeInt(length).writeInt(7).writeByte(1).writeByte(0);
        channel.writeInbound(header);
        OversizedFrame oversized = assertInstanceOf(OversizedFrame.class, channel.readInbound());
        assertEquals(7, oversized.streamId());
        assertEquals(length, oversized.length());
        assertEquals("message length 4194305 exceed maximum message size of 4194304", oversized.message());

        int chunk = 1 << 20;
        for (int sent = 0; sent < length; sent += chunk) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[Math.min(chunk, length - sent)]));
            assertNull(channel.readInbound(), "skipped bytes are not decoded as frames");
        }
        channel.writeInbound(Unpooled.wrappedBuffer(encode(new Frame(9, Frame.TYPE_REQUEST, 0, new byte[] {42}))));
        Frame next = channel.readInbound();
        assertEquals(9, next.streamId());
        assertArrayEquals(new byte[] {42}, next.payload());
    }

    @Test
    void truncatedFrameAtEndOfStreamYieldsNothing() {
        byte[] wire = encode(new Frame(1, Frame.TYPE_REQUEST, 0, new byte[100]));
        EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder());
        channel.writeInbound(Unpooled.wrappedBuffer(wire, 0, 50));
        assertFalse(channel.finish(), "a partial frame is dropped when the connection ends");
    }
}
