package io.urunc.builder;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The result of a build: where it was written, the manifest/config digests, the layers, the plain-text labels
 * (image config) and the manifest annotations (base64 values).
 */
public record BuiltImage(Path output, OutputFormat format, ImageReference reference, String manifestDigest,
                         String configDigest, List<Layer> layers, Map<String, String> labels,
                         Map<String, String> annotations) {
    public BuiltImage {
        layers = List.copyOf(layers);
        labels = Map.copyOf(labels);
        annotations = Map.copyOf(annotations);
    }
}
