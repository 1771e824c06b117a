package io.urunc.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * Which of a container spec's {@code mounts} reach a guest as volumes. A VM has its own kernel, so the container's
 * kernel file systems (proc, sysfs, devpts, mqueue, tmpfs, cgroup) and whatever the runtime binds under
 * {@code /proc}, {@code /sys} and {@code /dev} ({@code /dev/shm}, {@code /dev/termination-log}) mean nothing to it.
 * A bind mount of a host directory (ctr {@code --mount type=bind}, docker {@code -v}, Kubernetes emptyDir,
 * hostPath, configMap and secret volumes) is shared with the guest at its destination, read-only when its options
 * say {@code ro}; a bind mount of a block device is given to the guest as a disk, mounted at its destination.
 * Bind mounts of single files (docker's and CRI's {@code /etc/hosts}, {@code /etc/hostname},
 * {@code /etc/resolv.conf}) are skipped, with the reason: a shared file system shares directories.
 * Sources are host paths the container's creator chose (trusted); a missing one fails.
 */
public final class Volumes {
    /** One entry of the spec's {@code mounts}. */
    public record SpecMount(String destination, String type, String source, List<String> options) {
        public SpecMount {
            options = options == null ? List.of() : List.copyOf(options);
            type = type == null ? "" : type;
            source = source == null ? "" : source;
        }
    }

    /** A host directory (or, {@code blockDevice}, a block device) for the guest at {@code target}. */
    public record Volume(Path source, String target, boolean readOnly, boolean blockDevice) {
        public Volume(Path source, String target, boolean readOnly) {
            this(source, target, readOnly, false);
        }
    }

    /** The volumes, and for each bind mount left out, why. */
    public record Selection(List<Volume> volumes, List<String> skipped) {}

    private static final List<String> KERNEL_TREES = List.of("/proc", "/sys", "/dev");

    private Volumes() {}

    public static Selection select(List<SpecMount> mounts) throws IOException {
        List<Volume> volumes = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (SpecMount m : mounts) {
            if (!isBind(m)) continue;
            String target = normalTarget(m.destination());
            if (KERNEL_TREES.stream().anyMatch(t -> target.equals(t) || target.startsWith(t + "/"))) continue;
            if (target.equals("/"))
                throw new IOException("bind mount of " + m.source() + " on / : a volume cannot replace the guest's root");
            Path source = Path.of(m.source());
            if (!source.isAbsolute())
                throw new IOException("bind mount on " + target + ": source '" + m.source() + "' is not an absolute path");
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(source, BasicFileAttributes.class);
            } catch (IOException e) {
                throw new IOException("bind mount on " + target + ": source " + source + " does not exist or cannot be read ("
                        + e.getMessage() + ")");
            }
            if (attrs.isDirectory()) {
                volumes.add(new Volume(source.toRealPath(), target, readOnly(m.options())));
            } else if (isBlockDevice(source)) {
                volumes.add(new Volume(source.toRealPath(), target, readOnly(m.options()), true));
            } else {
                skipped.add(target + " (" + (attrs.isRegularFile() ? "a file" : "neither a directory nor a block device")
                        + ": only directories are shared with the guest)");
            }
        }
        return new Selection(List.copyOf(volumes), List.copyOf(skipped));
    }

    private static boolean isBlockDevice(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:mode") & 0170000) == 0060000;
    }

    private static boolean isBind(SpecMount m) {
        return m.type().equals("bind") || m.options().contains("bind") || m.options().contains("rbind");
    }

    /** The last of ro/rw wins, as mount(8) reads its options. */
    static boolean readOnly(List<String> options) {
        boolean ro = false;
        for (String o : options) {
            if (o.equals("ro")) ro = true;
            else if (o.equals("rw")) ro = false;
        }
        return ro;
    }

    private static String normalTarget(String destination) throws IOException {
        if (destination == null || !destination.startsWith("/"))
            throw new IOException("mount destination '" + destination + "' is not an absolute path");
        String n = Path.of(destination).normalize().toString();
        if (n.contains("/../") || n.endsWith("/..")) throw new IOException("mount destination '" + destination + "' climbs with ..");
        return n;
    }
}
