package io.urunc.builder;

import java.nio.file.Path;
import java.util.Map;

/**
 * Everything a build needs. {@code epochSeconds} is the timestamp of every file and of the image
 * (SOURCE_DATE_EPOCH or 0), so equal inputs give equal digests.
 */
public record BuildRequest(ImageReference reference, Path containerfile, Path context, Map<String, String> buildArgs,
                           OutputFormat format, Path output, long epochSeconds, boolean quiet) {
    public BuildRequest {
        buildArgs = Map.copyOf(buildArgs);
    }
}
