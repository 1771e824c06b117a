package io.urunc.image;

import com.google.protobuf.InvalidProtocolBufferException;
import io.urunc.image.containerd.api.ReadContentResponse;

import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.List;

/**
 * The bytes of a blob as containerd's Content.Read streamed them, decoded one message at a time so that only the
 * raw messages and one chunk are in memory. More than {@code maxBytes} of data fails the read, naming the blob.
 */
final class ContentStream extends InputStream {
    private final Iterator<byte[]> messages;
    private final String digest;
    private final long maxBytes;
    private InputStream chunk = InputStream.nullInputStream();
    private long total;

    ContentStream(List<byte[]> messages, String digest, long maxBytes) {
        this.messages = messages.iterator();
        this.digest = digest;
        this.maxBytes = maxBytes;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        while (true) {
            int n = chunk.read(b, off, len);
            if (n >= 0) {
                total += n;
                if (total > maxBytes) throw new IOException("content " + digest + " is larger than " + maxBytes + " bytes");
                return n;
            }
            if (!messages.hasNext()) return -1;
            chunk = next();
        }
    }

    private InputStream next() throws IOException {
        try {
            return ReadContentResponse.parseFrom(messages.next()).getData().newInput();
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("Content.Read " + digest + ": malformed response: " + e.getMessage(), e);
        }
    }
}
