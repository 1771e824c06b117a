package io.urunc.storage;

import java.util.List;

/**
 * One rootfs mount as containerd hands it to Create ({@code containerd.types.Mount}): typically a single
 * {@code overlay} mount (options {@code index=off}, {@code workdir=...}, {@code upperdir=...},
 * {@code lowerdir=a:b:c}) or a {@code bind} mount ({@code rbind}, {@code ro}).
 * {@code target} is unused here (containerd leaves it empty for rootfs mounts): they all go to the rootfs dir.
 */
public record MountSpec(String type, String source, String target, List<String> options) {
    public MountSpec {
        type = type == null ? "" : type;
        source = source == null ? "" : source;
        target = target == null ? "" : target;
        options = options == null ? List.of() : List.copyOf(options);
    }

    @Override
    public String toString() {
        return "mount type=" + type + " source=" + source + " options=" + String.join(",", options);
    }
}
