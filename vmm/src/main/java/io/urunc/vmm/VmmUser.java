package io.urunc.vmm;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The unprivileged identity a VMM switches to once it has opened what it needs (kernel, tap, sockets, /dev/kvm),
 * with no capabilities and its root changed to its own run dir. Each task gets its own uid and gid, picked from
 * {@value #RANGE} ids above a base by a hash of the task's name, so two guests' VMMs do not share an identity
 * (and cannot signal each other even outside separate pid namespaces, barring a rare collision).
 */
public record VmmUser(long uid, long gid) {
    public static final int RANGE = 1 << 20;
    /** Above the usual /etc/subuid ranges and Kubernetes' user-namespace ranges, below 2^31. */
    public static final long DEFAULT_BASE = 2_000_000_000L;
    /** The largest valid id is 2^32 - 2 ((uid_t) -1 means "unchanged"). */
    public static final long MAX_BASE = 0xFFFF_FFFEL - RANGE;

    public VmmUser {
        if (uid <= 0 || uid > 0xFFFF_FFFEL || gid <= 0 || gid > 0xFFFF_FFFEL)
            throw new IllegalArgumentException("VMM uid/gid must be 1..4294967294, got " + uid + ":" + gid);
    }

    /** The identity of the task called {@code taskKey} (e.g. namespace/id) for ids from {@code base}. */
    public static VmmUser forTask(long base, String taskKey) {
        if (base <= 0 || base > MAX_BASE) throw new IllegalArgumentException("VMM id base must be 1.." + MAX_BASE + ", got " + base);
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(taskKey.getBytes(StandardCharsets.UTF_8));
            long id = base + (((h[0] & 0xffL) << 16 | (h[1] & 0xffL) << 8 | (h[2] & 0xffL)) & (RANGE - 1));
            return new VmmUser(id, id);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** QEMU's {@code -runas} form. */
    public String uidGid() {
        return uid + ":" + gid;
    }
}
