package io.urunc.image.grpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** gRPC's length-prefixed messages (1-byte compressed flag, 4-byte big-endian length) and its header values. */
final class GrpcFraming {
    static final int PREFIX_BYTES = 5;

    private GrpcFraming() {
    }

    static ByteBuf frame(ByteBufAllocator alloc, byte[] message) {
        ByteBuf buf = alloc.buffer(PREFIX_BYTES + message.length);
        buf.writeByte(0).writeInt(message.length).writeBytes(message);
        return buf;
    }

    /** The {@code grpc-timeout} value: at most 8 digits, so long timeouts are sent in coarser units. */
    static String timeoutHeader(long millis) {
        long ms = Math.max(1, millis);
        if (ms <= 99_999_999L) return ms + "m";
        long s = (ms + 999) / 1000;
        if (s <= 99_999_999L) return s + "S";
        return Math.min(99_999_999L, (s + 3599) / 3600) + "H";
    }

    /**
     * Decodes {@code grpc-message}: percent-encoded UTF-8. A malformed escape is kept as it is: the message is
     * for people, and a partly garbled one beats none.
     */
    static String decodeMessage(CharSequence value) {
        String s = value.toString();
        if (s.indexOf('%') < 0) return s;
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int hi = i + 2 < s.length() && c == '%' ? Character.digit(s.charAt(i + 1), 16) : -1;
            int lo = hi >= 0 ? Character.digit(s.charAt(i + 2), 16) : -1;
            if (lo >= 0) {
                out.write(hi << 4 | lo);
                i += 2;
            } else {
                byte[] raw = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                out.write(raw, 0, raw.length);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
