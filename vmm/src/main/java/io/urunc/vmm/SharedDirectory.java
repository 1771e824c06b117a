package io.urunc.vmm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A host directory shared with the guest over virtiofs: the VMM connects to the vhost-user {@code socket} of a
 * virtiofsd serving it and exposes it under {@code tag}, which the guest names when it mounts it.
 */
public record SharedDirectory(String tag, Path socket) {
    public SharedDirectory {
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(socket, "socket");
        if (!tag.matches("[A-Za-z][A-Za-z0-9_-]{0,35}"))
            throw new IllegalArgumentException("virtiofs tag must be 1-36 chars [A-Za-z0-9_-] starting with a letter, got '" + tag + "'");
    }
}
