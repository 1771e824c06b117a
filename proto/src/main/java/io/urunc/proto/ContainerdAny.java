package io.urunc.proto;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;

/**
 * containerd's {@code typeurl} convention: an {@link Any} whose type URL is the bare protobuf full name
 * (e.g. {@code containerd.events.TaskExit}), not {@code type.googleapis.com/...} as {@link Any#pack} writes.
 */
public final class ContainerdAny {
    private ContainerdAny() {
    }

    public static Any pack(Message message) {
        return Any.newBuilder()
                .setTypeUrl(message.getDescriptorForType().getFullName())
                .setValue(message.toByteString())
                .build();
    }

    /** The full name named by a type URL, with or without a {@code host/} prefix. */
    public static String typeName(Any any) {
        String url = any.getTypeUrl();
        return url.substring(url.lastIndexOf('/') + 1);
    }

    public static <T extends Message> T unpack(Any any, T prototype, Parser<T> parser) throws InvalidProtocolBufferException {
        String expected = prototype.getDescriptorForType().getFullName();
        if (!typeName(any).equals(expected)) {
            throw new InvalidProtocolBufferException("Any holds " + any.getTypeUrl() + ", expected " + expected);
        }
        return parser.parseFrom(any.getValue());
    }
}
