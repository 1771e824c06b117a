package io.urunc.image;

import java.io.IOException;
import java.util.Map;

/**
 * The metadata containerd holds about a container: its labels ({@code ctr run IMAGE} copies the image
 * config labels there) and the annotations of its image's manifest. Either map is empty when there is
 * nothing (no image, e.g. {@code ctr run --rootfs}).
 */
public interface ContainerdMetadataSource {
    Map<String, String> containerLabels(String namespace, String containerId) throws IOException;

    Map<String, String> imageManifestAnnotations(String namespace, String containerId) throws IOException;
}
