package io.urunc.ttrpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link Frame}s. A frame longer than {@link Frame#MAX_PAYLOAD} is skipped without
 * buffering and reported as an {@link OversizedFrame}, so the connection survives it (as in Go's ttrpc).
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private long bytesToSkip;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            if (bytesToSkip > 0) {
                int skipped = (int) Math.min(bytesToSkip, in.readableBytes());
                in.skipBytes(skipped);
                bytesToSkip -= skipped;
                if (bytesToSkip > 0) {
                    return;
                }
            }
            if (in.readableBytes() < Frame.HEADER_LENGTH) {
                return;
            }
            int start = in.readerIndex();
            long length = in.getUnsignedInt(start);
            int streamId = in.getInt(start + 4);
            int type = in.getUnsignedByte(start + 8);
            int flags = in.getUnsignedByte(start + 9);
            if (length > Frame.MAX_PAYLOAD) {
                in.skipBytes(Frame.HEADER_LENGTH);
                bytesToSkip = length;
                out.add(new OversizedFrame(streamId, type, length));
                continue;
            }
            if (in.readableBytes() < Frame.HEADER_LENGTH + length) {
                return;
            }
            in.skipBytes(Frame.HEADER_LENGTH);
            byte[] payload = new byte[(int) length];
            in.readBytes(payload);
            out.add(new Frame(streamId, type, flags, payload));
        }
    }
}
