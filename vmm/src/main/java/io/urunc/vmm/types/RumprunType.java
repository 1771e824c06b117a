package io.urunc.vmm.types;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.vmm.GuestMount;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.InvalidGuestSpecException;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.UnikernelType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rumprun on Solo5: its JSON-like configuration, {@code {"cmdline":"<args>","env":"K=V",...,"net":{...},"blk":{...}}}.
 * "env" repeats once per variable (so it is assembled by hand, not as a JSON object). The network mask is "1"
 * (an all-inclusive /1, as urunc sets it so gateways outside the container subnet stay reachable); a BLOCK root
 * is the etfs disk /dev/ld0a mounted at /data, a disk mounted elsewhere ({@link GuestSpec#mounts()}, the image's
 * block file at its blkMntPoint) the same disk at that mount point. Its Solo5 devices ("tap", "rootfs") are named in
 * its manifest.
 */
public final class RumprunType implements UnikernelType {
    static final String BLOCK_MOUNTPOINT = "/data";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override public String name() { return "rumprun"; }

    @Override public Set<String> hypervisors() { return Set.of("hvt", "spt"); }

    @Override public boolean mounts(GuestMount.Kind kind) { return kind == GuestMount.Kind.BLOCK; }

    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor) {
        if (guest.root() != RootKind.NONE && guest.root() != RootKind.BLOCK)
            throw new InvalidGuestSpecException("rumprun guests can only take a block device root, not " + guest.root());
        List<String> members = new ArrayList<>();
        members.add(member("cmdline", String.join(" ", guest.args())));
        for (Map.Entry<String, String> e : guest.env().entrySet()) {
            if (e.getKey().isEmpty() || e.getKey().contains("=")) throw new InvalidGuestSpecException("invalid environment variable name '" + e.getKey() + "'");
            members.add(member("env", e.getKey() + "=" + e.getValue()));
        }
        guest.network().ifPresent(n -> members.add("\"net\":" + object(Map.of(
                "if", "ukvmif0", "cloner", "True", "type", "inet", "method", "static",
                "addr", n.ipv4(), "mask", "1", "gw", n.gateway() == null ? "" : n.gateway()),
                List.of("if", "cloner", "type", "method", "addr", "mask", "gw"))));
        List<GuestMount> disks = guest.mounts().stream().filter(m -> m.kind() == GuestMount.Kind.BLOCK).toList();
        if (disks.size() + (guest.root() == RootKind.BLOCK ? 1 : 0) > 1)
            throw new InvalidGuestSpecException("a rumprun guest mounts one block device (its etfs disk), not " + (disks.size()
                    + (guest.root() == RootKind.BLOCK ? 1 : 0)));
        if (guest.mounts().size() > disks.size())
            throw new InvalidGuestSpecException("a rumprun guest mounts block devices only, not shared directories");
        String mountpoint = guest.root() == RootKind.BLOCK ? BLOCK_MOUNTPOINT : disks.isEmpty() ? null : disks.getFirst().target();
        if (mountpoint != null)
            members.add("\"blk\":" + object(Map.of("source", "etfs", "path", "/dev/ld0a", "fstype", "blk", "mountpoint", mountpoint),
                    List.of("source", "path", "fstype", "mountpoint")));
        return "{" + String.join(",", members) + "}";
    }

    private static String member(String key, String value) { return str(key) + ":" + str(value); }

    private static String object(Map<String, String> values, List<String> order) {
        List<String> m = new ArrayList<>();
        for (String k : order) m.add(member(k, values.get(k)));
        return "{" + String.join(",", m) + "}";
    }

    private static String str(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
