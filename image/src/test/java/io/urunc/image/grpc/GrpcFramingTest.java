package io.urunc.image.grpc;

import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GrpcFramingTest {
    @Test
    void framesWithAZeroFlagAndBigEndianLength() {
        byte[] framed = FakeGrpcServer.framed(new byte[]{7, 8, 9});
        assertArrayEquals(new byte[]{0, 0, 0, 0, 3, 7, 8, 9}, framed);
    }

    @Test
    void deframesMessagesHoweverTheBytesAreSplit() throws Exception {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[][] messages = {"first".getBytes(StandardCharsets.UTF_8), new byte[0], new byte[300]};
        for (byte[] m : messages) all.writeBytes(FakeGrpcServer.framed(m));
        byte[] bytes = all.toByteArray();
        for (int split = 0; split <= bytes.length; split++) {
            GrpcDeframer d = new GrpcDeframer(1000);
            d.feed(Unpooled.wrappedBuffer(bytes, 0, split));
            d.feed(Unpooled.wrappedBuffer(bytes, split, bytes.length - split));
            List<byte[]> got = d.messages();
            assertEquals(3, got.size(), "split at " + split);
            for (int i = 0; i < 3; i++) assertArrayEquals(messages[i], got.get(i), "split at " + split);
            assertFalse(d.midMessage());
        }
    }

    @Test
    void aTruncatedMessageIsNoticed() throws Exception {
        GrpcDeframer d = new GrpcDeframer(1000);
        d.feed(Unpooled.wrappedBuffer(new byte[]{0, 0, 0, 0, 4, 1, 2}));
        assertTrue(d.midMessage());
        assertEquals(0, d.messages().size());
    }

    @Test
    void refusesCompressedAndOversizedMessagesBeforeBuffering() {
        GrpcException compressed = assertThrows(GrpcException.class,
                () -> new GrpcDeframer(1000).feed(Unpooled.wrappedBuffer(new byte[]{1, 0, 0, 0, 1, 5})));
        assertEquals(GrpcCode.INTERNAL, compressed.code());
        // a length prefix of 2 GiB is refused from the prefix alone
        GrpcException big = assertThrows(GrpcException.class,
                () -> new GrpcDeframer(1000).feed(Unpooled.wrappedBuffer(new byte[]{0, (byte) 0x80, 0, 0, 0})));
        assertEquals(GrpcCode.RESOURCE_EXHAUSTED, big.code());
    }

    @Test
    void decodesPercentEncodedMessagesAndKeepsMalformedEscapes() {
        assertEquals("not found: ✓ 100%", GrpcFraming.decodeMessage("not%20found:%20%E2%9C%93%20100%"));
        assertEquals("a%zzb+c", GrpcFraming.decodeMessage("a%zzb+c"));
        assertEquals("plain", GrpcFraming.decodeMessage("plain"));
    }

    @Test
    void timeoutHeaderFitsInEightDigits() {
        assertEquals("2000m", GrpcFraming.timeoutHeader(2000));
        assertEquals("1m", GrpcFraming.timeoutHeader(0));
        assertEquals("100000S", GrpcFraming.timeoutHeader(100_000_000L));
        assertTrue(GrpcFraming.timeoutHeader(Long.MAX_VALUE / 2).matches("\\d{1,8}H"));
    }
}
