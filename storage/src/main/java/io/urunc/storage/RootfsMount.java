package io.urunc.storage;

import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Mounts the rootfs mounts containerd passes to Create at {@code <bundle>/rootfs}, and undoes them.
 * Mounts are applied in order on the same target, as containerd's {@code mount.All} does; options are
 * split into MS_* flags, propagation changes and filesystem data. A bind mount with {@code ro} is
 * remounted read-only (the kernel ignores MS_RDONLY on the initial bind).
 *
 * <p>Overlay option strings longer than a page fail in the kernel. containerd then chdirs to the common
 * parent of the lowerdirs and uses relative paths; a JVM cannot chdir one thread safely, so we open the
 * common parent and name the layers through {@code /proc/self/fd/<n>/<relative>} instead, which the
 * kernel resolves during mount(2). If that is still too long the mount fails with a clear error.
 *
 * <p>A mount with the {@code loop} option (containerd's blockfile snapshotter: {@code ext4}, the snapshot's image
 * file as source) is mounted from an autoclear {@link LoopDevice}; a rootfs that is exactly one such mount is
 * {@linkplain MountedRootfs#blockImage() block-backed}, and can be handed to a guest as its disk instead.
 */
public final class RootfsMount {
    static final int MAX_DATA_BYTES = 4095; // one page minus the NUL

    private RootfsMount() {}

    /**
     * Mounts {@code mounts} on {@code target} (created if missing). With no mounts, {@code target} is used
     * as it is. On failure, whatever was mounted is undone before the exception propagates.
     */
    public static MountedRootfs mount(List<MountSpec> mounts, Path target) throws IOException {
        Files.createDirectories(target);
        Path dir = target.toRealPath();
        int done = 0;
        try {
            for (MountSpec m : mounts) {
                mountOne(m, dir);
                done++;
            }
        } catch (IOException | RuntimeException e) {
            new MountedRootfs(dir, done, Optional.empty()).close();
            throw e;
        }
        return new MountedRootfs(dir, done, blockImage(mounts));
    }

    /** The file system image a rootfs of exactly one loop mount is, as its mount names it. */
    static Optional<MountedRootfs.BlockImage> blockImage(List<MountSpec> mounts) {
        if (mounts.size() != 1) return Optional.empty();
        MountSpec m = mounts.getFirst();
        MountOptions opts = MountOptions.parse(m.options());
        if (!opts.data().contains("loop") || m.type().isEmpty()) return Optional.empty();
        return Optional.of(new MountedRootfs.BlockImage(Path.of(m.source()), m.type(),
                (opts.flags() & MountOptions.MS_RDONLY) != 0));
    }

    /**
     * Unmounts everything stacked on {@code target} (lazily when busy), e.g. after a shim crash left a
     * rootfs mounted. Does nothing when {@code target} is missing or not a mount point.
     */
    public static void unmountIfMounted(Path target) throws IOException {
        if (!Files.isDirectory(target)) return;
        Path dir = target.toRealPath();
        for (int i = 0; i < 64 && Mountinfo.isMountPoint(dir); i++) {
            if (!MountedRootfs.unmountOnce(dir)) return;
        }
        if (Mountinfo.isMountPoint(dir)) throw new IOException("cannot unmount " + dir + ": still mounted after 64 unmounts");
    }

    private static void mountOne(MountSpec m, Path target) throws IOException {
        if (m.type().isEmpty() && m.source().isEmpty()) throw new IOException("empty rootfs " + m);
        MountOptions opts = MountOptions.parse(m.options());
        LoopDevice loop = null;
        if (opts.data().contains("loop")) {
            if (m.type().isEmpty()) throw new IOException("a loop rootfs mount needs a file system type: " + m);
            loop = LoopDevice.attach(Path.of(m.source()), (opts.flags() & MountOptions.MS_RDONLY) != 0);
            opts = opts.withData(opts.data().stream().filter(o -> !o.equals("loop")).toList());
        }
        String source = loop != null ? loop.device().toString() : m.source();
        List<Integer> fds = new ArrayList<>();
        try {
            String data = opts.dataString();
            if (m.type().equals("overlay") && utf8Length(data) > MAX_DATA_BYTES) {
                data = OverlayCompaction.compact(opts.data(), fds);
                if (utf8Length(data) > MAX_DATA_BYTES) {
                    throw new IOException("overlay options are " + utf8Length(data) + " bytes even with layer paths"
                            + " shortened, more than the kernel's " + MAX_DATA_BYTES + "-byte limit (too many layers?): " + m);
                }
            }
            long flags = opts.flags() & ~MountOptions.MS_REMOUNT;
            String fstype = m.type().isEmpty() ? "none" : m.type();
            try {
                Libc.mount(source, target.toString(), fstype, opts.flags(), data.isEmpty() ? null : data);
            } catch (SysException e) {
                throw new IOException("cannot mount rootfs (" + m + ") on " + target + ": " + e.getMessage(), e);
            }
            try {
                if (opts.propagation() != 0) {
                    Libc.mount(null, target.toString(), null, opts.propagation(), null);
                }
                long bindRo = MountOptions.MS_BIND | MountOptions.MS_RDONLY;
                if ((flags & bindRo) == bindRo) {
                    Libc.mount(null, target.toString(), null, flags | MountOptions.MS_REMOUNT, null);
                }
            } catch (SysException e) {
                MountedRootfs.unmountOnce(target);
                throw new IOException("cannot apply options of rootfs (" + m + ") on " + target + ": " + e.getMessage(), e);
            }
        } finally {
            fds.forEach(Libc::close);
            if (loop != null) loop.close(); // mounted, the file system holds it; else it goes now
        }
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
