package io.urunc.storage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * fstab-style options split the way containerd's mount package does: flag words become MS_* bits (set or
 * cleared), propagation words become a separate propagation call, everything else is filesystem data.
 */
record MountOptions(long flags, long propagation, List<String> data) {
    static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_SYNCHRONOUS = 16,
            MS_REMOUNT = 32, MS_MANDLOCK = 64, MS_DIRSYNC = 128, MS_NOATIME = 1024, MS_NODIRATIME = 2048,
            MS_BIND = 4096, MS_REC = 16384, MS_UNBINDABLE = 1 << 17, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19,
            MS_SHARED = 1 << 20, MS_RELATIME = 1 << 21, MS_STRICTATIME = 1 << 24;

    private record Flag(boolean clear, long bits) {}

    private static final Map<String, Flag> FLAGS = Map.ofEntries(
            Map.entry("async", new Flag(true, MS_SYNCHRONOUS)),
            Map.entry("atime", new Flag(true, MS_NOATIME)),
            Map.entry("bind", new Flag(false, MS_BIND)),
            Map.entry("defaults", new Flag(false, 0)),
            Map.entry("dev", new Flag(true, MS_NODEV)),
            Map.entry("diratime", new Flag(true, MS_NODIRATIME)),
            Map.entry("dirsync", new Flag(false, MS_DIRSYNC)),
            Map.entry("exec", new Flag(true, MS_NOEXEC)),
            Map.entry("mand", new Flag(false, MS_MANDLOCK)),
            Map.entry("noatime", new Flag(false, MS_NOATIME)),
            Map.entry("nodev", new Flag(false, MS_NODEV)),
            Map.entry("nodiratime", new Flag(false, MS_NODIRATIME)),
            Map.entry("noexec", new Flag(false, MS_NOEXEC)),
            Map.entry("nomand", new Flag(true, MS_MANDLOCK)),
            Map.entry("norelatime", new Flag(true, MS_RELATIME)),
            Map.entry("nostrictatime", new Flag(true, MS_STRICTATIME)),
            Map.entry("nosuid", new Flag(false, MS_NOSUID)),
            Map.entry("rbind", new Flag(false, MS_BIND | MS_REC)),
            Map.entry("relatime", new Flag(false, MS_RELATIME)),
            Map.entry("remount", new Flag(false, MS_REMOUNT)),
            Map.entry("ro", new Flag(false, MS_RDONLY)),
            Map.entry("rw", new Flag(true, MS_RDONLY)),
            Map.entry("strictatime", new Flag(false, MS_STRICTATIME)),
            Map.entry("suid", new Flag(true, MS_NOSUID)),
            Map.entry("sync", new Flag(false, MS_SYNCHRONOUS)));

    private static final Map<String, Long> PROPAGATION = Map.of(
            "private", MS_PRIVATE, "rprivate", MS_PRIVATE | MS_REC,
            "shared", MS_SHARED, "rshared", MS_SHARED | MS_REC,
            "slave", MS_SLAVE, "rslave", MS_SLAVE | MS_REC,
            "unbindable", MS_UNBINDABLE, "runbindable", MS_UNBINDABLE | MS_REC);

    static MountOptions parse(List<String> options) {
        long flags = 0, propagation = 0;
        List<String> data = new ArrayList<>();
        for (String o : options) {
            Flag f = FLAGS.get(o);
            Long p = PROPAGATION.get(o);
            if (f != null) {
                flags = f.clear() ? flags & ~f.bits() : flags | f.bits();
            } else if (p != null) {
                propagation |= p;
            } else {
                data.add(o);
            }
        }
        return new MountOptions(flags, propagation, List.copyOf(data));
    }

    String dataString() {
        return String.join(",", data);
    }

    MountOptions withData(List<String> newData) {
        return new MountOptions(flags, propagation, List.copyOf(newData));
    }
}
