package io.urunc.image.grpc;

import java.io.IOException;

/**
 * A gRPC call that did not end with OK: the server's status, or the client's own verdict (UNAVAILABLE when the
 * socket cannot be reached, DEADLINE_EXCEEDED, INTERNAL for a malformed response...). {@link #description()}
 * is the decoded {@code grpc-message}, empty when there was none.
 */
public final class GrpcException extends IOException {
    private final GrpcCode code;
    private final String description;

    public GrpcException(GrpcCode code, String description) {
        this(code, description, null);
    }

    public GrpcException(GrpcCode code, String description, Throwable cause) {
        super(description == null || description.isEmpty() ? code.name() : code + ": " + description, cause);
        this.code = code;
        this.description = description == null ? "" : description;
    }

    public GrpcCode code() {
        return code;
    }

    public String description() {
        return description;
    }
}
