package io.urunc.vmm;

import java.nio.file.Path;
import java.util.Objects;

/** A raw disk image or block device given to the guest. {@code id} names it for the VMM (and virtio serial). */
public record BlockDevice(String id, Path path, boolean readOnly) {
    public BlockDevice {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(path, "path");
        if (!id.matches("[A-Za-z][A-Za-z0-9_-]{0,19}"))
            throw new IllegalArgumentException("block device id must be 1-20 chars [A-Za-z0-9_-] starting with a letter, got '" + id + "'");
    }
}
