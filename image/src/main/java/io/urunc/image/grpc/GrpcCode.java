package io.urunc.image.grpc;

/** gRPC status codes, by their wire value (the {@code grpc-status} trailer). */
public enum GrpcCode {
    OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
    RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
    DATA_LOSS, UNAUTHENTICATED;

    private static final GrpcCode[] BY_VALUE = values();

    public int value() {
        return ordinal();
    }

    /** The code for a {@code grpc-status} value; a value that is not a known code is UNKNOWN, as gRPC says. */
    public static GrpcCode ofWireValue(String value) {
        try {
            int v = Integer.parseInt(value.trim());
            return v >= 0 && v < BY_VALUE.length ? BY_VALUE[v] : UNKNOWN;
        } catch (NumberFormatException e) {
            return UNKNOWN;
        }
    }

    /** What a response with this HTTP status and no grpc-status means (gRPC's http-grpc-status-mapping). */
    static GrpcCode ofHttpStatus(int status) {
        return switch (status) {
            case 400 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 429, 502, 503, 504 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }
}
