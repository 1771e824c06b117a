package io.urunc.vmm;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A raw disk image or block device given to the guest. {@code id} names it for the VMM (and virtio serial).
 * With {@code inheritedFds} the VMM gets the file already open on those descriptors ({@link LaunchPlan#inheritedFiles}),
 * one per access mode it opens the image with (the first is the one for the disk's own mode), and {@code path} only
 * names it in messages: QEMU takes them as one fd set ({@code -add-fd}: it serves each open from a descriptor of the
 * same access mode, and QEMU also opens an image read-only), the others take {@code /dev/fd/<first>}
 * ({@link #pathForVmm}). So no VMM resolves a path from an image. {@code hostDevice}: a block device rather than an
 * image file (QEMU needs its host_device driver for it).
 */
public record BlockDevice(String id, Path path, boolean readOnly, List<Integer> inheritedFds, boolean hostDevice) {
    public BlockDevice {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(path, "path");
        inheritedFds = inheritedFds == null ? List.of() : List.copyOf(inheritedFds);
        if (!id.matches("[A-Za-z][A-Za-z0-9_-]{0,19}"))
            throw new IllegalArgumentException("block device id must be 1-20 chars [A-Za-z0-9_-] starting with a letter, got '" + id + "'");
        for (int fd : inheritedFds)
            if (fd < 3) throw new IllegalArgumentException("block device " + id + ": inherited descriptors must be 3 or above, got " + fd);
    }

    public BlockDevice(String id, Path path, boolean readOnly) {
        this(id, path, readOnly, List.of(), false);
    }

    public BlockDevice(String id, Path path, boolean readOnly, List<Integer> inheritedFds) {
        this(id, path, readOnly, inheritedFds, false);
    }

    /** The name the VMM opens: {@code /dev/fd/<n>} for an inherited descriptor, else {@link #path}. */
    public Path pathForVmm() {
        return inheritedFds.isEmpty() ? path : Path.of("/dev/fd/" + inheritedFds.getFirst());
    }
}
