package io.urunc.network;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Optional inputs of {@link UnikernelNetwork#attach(Path, String, AttachOptions)}.
 *
 * @param resolvConf      the container's resolv.conf as seen by the daemon (null: none), see {@link GuestDns}
 * @param hostResolvConfs host resolv.conf files consulted when the container's has no usable server
 * @param privateRange    IPv4 network ({@code a.b.c.d/n}, n ≤ 30) from which private-mode /30s are taken
 * @param tapOwnerUid     uid allowed to open the tap (the VMM's uid when it does not run as root)
 * @param tapOwnerGid     gid allowed to open the tap
 */
public record AttachOptions(Path resolvConf, List<Path> hostResolvConfs, String privateRange,
                            OptionalInt tapOwnerUid, OptionalInt tapOwnerGid) {
    public static final String DEFAULT_PRIVATE_RANGE = "169.254.100.0/24";

    public AttachOptions {
        hostResolvConfs = List.copyOf(hostResolvConfs);
        PrivateSubnets.parseRange(Objects.requireNonNull(privateRange, "privateRange"));
        Objects.requireNonNull(tapOwnerUid, "tapOwnerUid");
        Objects.requireNonNull(tapOwnerGid, "tapOwnerGid");
    }

    public static AttachOptions defaults() {
        return new AttachOptions(null, GuestDns.HOST_RESOLV_CONFS, DEFAULT_PRIVATE_RANGE, OptionalInt.empty(),
                OptionalInt.empty());
    }

    public AttachOptions withResolvConf(Path file) {
        return new AttachOptions(file, hostResolvConfs, privateRange, tapOwnerUid, tapOwnerGid);
    }

    public AttachOptions withHostResolvConfs(List<Path> files) {
        return new AttachOptions(resolvConf, files, privateRange, tapOwnerUid, tapOwnerGid);
    }

    public AttachOptions withPrivateRange(String cidr) {
        return new AttachOptions(resolvConf, hostResolvConfs, cidr, tapOwnerUid, tapOwnerGid);
    }

    public AttachOptions withTapOwner(int uid, int gid) {
        return new AttachOptions(resolvConf, hostResolvConfs, privateRange, OptionalInt.of(uid), OptionalInt.of(gid));
    }
}
