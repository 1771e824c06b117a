package io.urunc.ttrpc;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * What a handler knows about its call.
 *
 * @param metadata the request's key/value pairs in arrival order (containerd sends none to shims)
 * @param deadline when the caller gives up ({@code timeout_nano}), or null if it waits forever
 * @param callerGone whether the call was already answered for the handler (its deadline expired) or its
 *                   connection closed: nobody will read what the handler returns
 */
public record CallContext(String service, String method, Map<String, List<String>> metadata, Instant deadline,
                          BooleanSupplier callerGone) {
    public CallContext {
        metadata = Map.copyOf(metadata);
    }

    public CallContext(String service, String method, Map<String, List<String>> metadata, Instant deadline) {
        this(service, method, metadata, deadline, () -> false);
    }

    /** The first value of a metadata key, or null. */
    public String firstMetadata(String key) {
        List<String> values = metadata.get(key);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /**
     * The caller will never see this call's result: a handler that changed state for it (Create) undoes that.
     */
    public boolean abandoned() {
        return callerGone.getAsBoolean() || (deadline != null && Instant.now().isAfter(deadline));
    }
}
