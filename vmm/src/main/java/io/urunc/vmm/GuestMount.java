package io.urunc.vmm;

import java.util.Objects;

/**
 * A file system the guest mounts at {@code target}: a virtiofs share ({@code source} = its tag) or a block
 * device ({@code source} = its id, which the VMM also sets as the disk's serial).
 */
public record GuestMount(Kind kind, String source, String target, boolean readOnly) {
    public enum Kind { VIRTIOFS, BLOCK }

    public GuestMount {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        if (!target.startsWith("/"))
            throw new InvalidGuestSpecException("mount target must be an absolute path in the guest, got '" + target + "'");
    }
}
