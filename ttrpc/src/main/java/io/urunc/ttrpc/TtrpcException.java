package io.urunc.ttrpc;

/** A call failed with a status: raised by handlers to answer with that status, and by the client on error replies. */
public class TtrpcException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Code code;

    public TtrpcException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public TtrpcException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    @Override
    public String toString() {
        return "ttrpc " + code + ": " + getMessage();
    }

    public static TtrpcException notFound(String message) {
        return new TtrpcException(Code.NOT_FOUND, message);
    }

    public static TtrpcException invalidArgument(String message) {
        return new TtrpcException(Code.INVALID_ARGUMENT, message);
    }

    public static TtrpcException failedPrecondition(String message) {
        return new TtrpcException(Code.FAILED_PRECONDITION, message);
    }

    public static TtrpcException alreadyExists(String message) {
        return new TtrpcException(Code.ALREADY_EXISTS, message);
    }

    public static TtrpcException unimplemented(String message) {
        return new TtrpcException(Code.UNIMPLEMENTED, message);
    }

    public static TtrpcException internal(String message) {
        return new TtrpcException(Code.INTERNAL, message);
    }

    public static TtrpcException deadlineExceeded(String message) {
        return new TtrpcException(Code.DEADLINE_EXCEEDED, message);
    }

    public static TtrpcException unavailable(String message) {
        return new TtrpcException(Code.UNAVAILABLE, message);
    }

    public static TtrpcException resourceExhausted(String message) {
        return new TtrpcException(Code.RESOURCE_EXHAUSTED, message);
    }
}
