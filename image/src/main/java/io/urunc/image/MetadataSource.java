package io.urunc.image;

/** Where a metadata value came from, in precedence order (first wins). */
enum MetadataSource {
    SPEC("OCI spec annotation"),
    MANIFEST("image manifest annotation"),
    LABEL("container label"),
    IMAGE_CONFIG("image config label"),
    URUNC_JSON("/" + Annotations.URUNC_JSON);

    final String description;

    MetadataSource(String description) {
        this.description = description;
    }
}
