package io.urunc.builder;

import java.util.List;

/**
 * A gzip-compressed layer blob: {@code digest}/{@code size} of the blob, {@code diffId}/{@code uncompressedSize}
 * of the tar inside, and the image paths of its regular files.
 */
public record Layer(String digest, long size, String diffId, long uncompressedSize, String createdBy, List<String> files) {
    public static final String MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip";

    public Layer {
        files = List.copyOf(files);
    }
}
