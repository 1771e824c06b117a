package io.urunc.ttrpc;

import io.urunc.proto.ttrpc.Request;
import io.urunc.proto.ttrpc.Response;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A hand-driven ttrpc peer over a JDK socket, for sending bytes no well-behaved client would send. */
final class RawConnection implements AutoCloseable {
    record Received(int streamId, int type, int flags, Response response) {
    }

    private final SocketChannel socket;

    RawConnection(Path path) throws IOException {
        socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        socket.connect(UnixDomainSocketAddress.of(path));
    }

    void write(byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            socket.write(buffer);
        }
    }

    void writeHeader(long length, int streamId, int type, int flags) throws IOException {
        write(ByteBuffer.allocate(10).putInt((int) length).putInt(streamId).put((byte) type).put((byte) flags).array());
    }

    void writeFrame(int streamId, int type, int flags, byte[] payload) throws IOException {
        writeHeader(payload.length, streamId, type, flags);
        write(payload);
    }

    void writeRequest(int streamId, Request request) throws IOException {
        writeFrame(streamId, Frame.TYPE_REQUEST, 0, request.toByteArray());
    }

    /** The next frame, or an exception if none arrives within 5 s or the server closed the connection. */
    Received read() throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                ByteBuffer header = readFully(10);
                int length = header.getInt();
                int streamId = header.getInt();
                int type = header.get();
                int flags = header.get();
                return new Received(streamId, type, flags, Response.parseFrom(readFully(length)));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).get(5, TimeUnit.SECONDS);
    }

    /** True if the server closed the connection within 5 s. */
    boolean closedByServer() throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return socket.read(ByteBuffer.allocate(1)) == -1;
            } catch (IOException e) {
                return true;
            }
        }).get(5, TimeUnit.SECONDS);
    }

    private ByteBuffer readFully(int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (socket.read(buffer) < 0) {
                throw new IOException("connection closed by the server");
            }
        }
        return buffer.flip();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
