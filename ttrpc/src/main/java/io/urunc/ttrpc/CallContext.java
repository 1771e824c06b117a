package io.urunc.ttrpc;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a handler knows about its call.
 *
 * @param metadata the request's key/value pairs in arrival order (containerd sends none to shims)
 * @param deadline when the caller gives up ({@code timeout_nano}), or null if it waits forever
 */
public record CallContext(String service, String method, Map<String, List<String>> metadata, Instant deadline) {
    public CallContext {
        metadata = Map.copyOf(metadata);
    }

    /** The first value of a metadata key, or null. */
    public String firstMetadata(String key) {
        List<String> values = metadata.get(key);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }
}
