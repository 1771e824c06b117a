package io.urunc.ttrpc;

import io.urunc.proto.rpc.Status;
import io.urunc.proto.ttrpc.Response;

/** Conversions between {@link TtrpcException} and ttrpc's {@code Response.status}. */
final class Statuses {
    private Statuses() {
    }

    static Response errorResponse(Code code, String message) {
        return Response.newBuilder()
                .setStatus(Status.newBuilder().setCode(code.value()).setMessage(message))
                .build();
    }

    static Response errorResponse(TtrpcException e) {
        return errorResponse(e.code(), e.getMessage() == null ? "" : e.getMessage());
    }

    /** Null for a successful response (no status, or status code 0). */
    static TtrpcException failureOf(Response response) {
        if (!response.hasStatus() || response.getStatus().getCode() == Code.OK.value()) {
            return null;
        }
        Status status = response.getStatus();
        return new TtrpcException(Code.of(status.getCode()), status.getMessage());
    }
}
