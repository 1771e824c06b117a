package io.urunc.image.grpc;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * Reassembles length-prefixed gRPC messages from DATA frame payloads, however they are split. Refuses
 * compressed messages (we never offer an encoding) and responses above a byte budget, before buffering them.
 */
final class GrpcDeframer {
    private final long maxResponseBytes;
    private final byte[] prefix = new byte[GrpcFraming.PREFIX_BYTES];
    private final List<byte[]> messages = new ArrayList<>();
    private int prefixFilled;
    private byte[] message;
    private int messageFilled;
    private long totalBytes;

    GrpcDeframer(long maxResponseBytes) {
        this.maxResponseBytes = maxResponseBytes;
    }

    void feed(ByteBuf data) throws GrpcException {
        while (data.isReadable()) {
            if (message == null) {
                int n = Math.min(prefix.length - prefixFilled, data.readableBytes());
                data.readBytes(prefix, prefixFilled, n);
                prefixFilled += n;
                if (prefixFilled == prefix.length) startMessage();
            } else {
                int n = Math.min(message.length - messageFilled, data.readableBytes());
                data.readBytes(message, messageFilled, n);
                messageFilled += n;
            }
            if (message != null && messageFilled == message.length) {
                messages.add(message);
                message = null;
                prefixFilled = 0;
            }
        }
    }

    private void startMessage() throws GrpcException {
        if (prefix[0] != 0) {
            throw new GrpcException(GrpcCode.INTERNAL, "the server sent a compressed message (flag " + prefix[0] + ") although no encoding was offered");
        }
        long length = Integer.toUnsignedLong((prefix[1] & 0xff) << 24 | (prefix[2] & 0xff) << 16 | (prefix[3] & 0xff) << 8 | prefix[4] & 0xff);
        totalBytes += length;
        if (totalBytes > maxResponseBytes) {
            throw new GrpcException(GrpcCode.RESOURCE_EXHAUSTED, "response larger than " + maxResponseBytes + " bytes");
        }
        message = new byte[(int) length];
        messageFilled = 0;
    }

    /** True when the stream stopped in the middle of a message: a truncated response. */
    boolean midMessage() {
        return prefixFilled > 0;
    }

    List<byte[]> messages() {
        return List.copyOf(messages);
    }
}
