package io.urunc.ttrpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/** Writes a {@link Frame} as the 10-byte big-endian header followed by its payload. */
@ChannelHandler.Sharable
final class FrameEncoder extends MessageToByteEncoder<Frame> {
    static final FrameEncoder INSTANCE = new FrameEncoder();

    private FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, Frame frame, boolean preferDirect) {
        int size = Frame.HEADER_LENGTH + frame.payload().length;
        return preferDirect ? ctx.alloc().ioBuffer(size) : ctx.alloc().heapBuffer(size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Frame frame, ByteBuf out) {
        out.writeInt(frame.payload().length);
        out.writeInt(frame.streamId());
        out.writeByte(frame.type());
        out.writeByte(frame.flags());
        out.writeBytes(frame.payload());
    }
}
