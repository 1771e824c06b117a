package io.urunc.ttrpc;

/**
 * One ttrpc message: the 10-byte header (length, stream id, type, flags) and its payload.
 * Stream ids are unsigned on the wire; they are kept in an int and compared with {@link Integer#compareUnsigned}.
 */
record Frame(int streamId, int type, int flags, byte[] payload) {
    static final int HEADER_LENGTH = 10;
    /** ttrpc's messageLengthMax: 4 MiB of payload. */
    static final int MAX_PAYLOAD = 4 << 20;

    static final int TYPE_REQUEST = 1;
    static final int TYPE_RESPONSE = 2;
    static final int TYPE_DATA = 3;

    /** Request and Data: the sender sends no more data on this stream. */
    static final int FLAG_REMOTE_CLOSED = 0x1;
    /** Request: the sender will send Data frames (ttrpc 1.2 streaming). */
    static final int FLAG_REMOTE_OPEN = 0x2;
    /** Data: the frame carries no payload. */
    static final int FLAG_NO_DATA = 0x4;

    Frame {
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("payload of " + payload.length + " bytes exceeds the ttrpc limit of " + MAX_PAYLOAD);
        }
    }

    static Frame response(int streamId, byte[] payload) {
        return new Frame(streamId, TYPE_RESPONSE, 0, payload);
    }

    static Frame request(int streamId, byte[] payload) {
        return new Frame(streamId, TYPE_REQUEST, 0, payload);
    }

    boolean clientInitiated() {
        return (streamId & 1) == 1;
    }

    @Override
    public String toString() {
        return "Frame[stream=" + Integer.toUnsignedString(streamId) + ", type=" + type + ", flags=" + flags
                + ", length=" + payload.length + "]";
    }
}
