package io.urunc.image;

import java.io.IOException;
import java.util.Map;

/**
 * The metadata containerd holds about a container: its labels ({@code ctr run IMAGE} copies the image
 * config labels there), the annotations of its image's manifest and the labels of its image's config (what
 * docker's containerd image store leaves: it names the image on the container but copies no labels). Any
 * map is empty when there is nothing (no image, e.g. {@code ctr run --rootfs}, docker's graph drivers).
 */
public interface ContainerdMetadataSource {
    Map<String, String> containerLabels(String namespace, String containerId) throws IOException;

    Map<String, String> imageManifestAnnotations(String namespace, String containerId) throws IOException;

    default Map<String, String> imageConfigLabels(String namespace, String containerId) throws IOException {
        return Map.of();
    }

    /** All three at once, as a Create needs them; a source that reaches containerd reads the container once. */
    default Everything everything(String namespace, String containerId) throws IOException {
        return new Everything(containerLabels(namespace, containerId), imageManifestAnnotations(namespace, containerId),
                imageConfigLabels(namespace, containerId));
    }

    record Everything(Map<String, String> containerLabels, Map<String, String> manifestAnnotations,
                      Map<String, String> configLabels) {}
}
