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
 * @param pod             the namespace is a pod's, shared with other containers: the guest is routed, not given
 *                        the interface ({@link NetworkAttachment#ROUTED})
 * @param ports           the ports the guest serves (in a pod: reachable on localhost and the pod IP)
 */
public record AttachOptions(Path resolvConf, List<Path> hostResolvConfs, String privateRange,
                            OptionalInt tapOwnerUid, OptionalInt tapOwnerGid, boolean pod, List<GuestPort> ports) {
    public static final String DEFAULT_PRIVATE_RANGE = "169.254.100.0/24";

    public AttachOptions {
        hostResolvConfs = List.copyOf(hostResolvConfs);
        PrivateSubnets.parseRange(Objects.requireNonNull(privateRange, "privateRange"));
        Objects.requireNonNull(tapOwnerUid, "tapOwnerUid");
        Objects.requireNonNull(tapOwnerGid, "tapOwnerGid");
        ports = List.copyOf(ports);
    }

    public static AttachOptions defaults() {
        return new AttachOptions(null, GuestDns.HOST_RESOLV_CONFS, DEFAULT_PRIVATE_RANGE, OptionalInt.empty(),
                OptionalInt.empty(), false, List.of());
    }

    public AttachOptions withResolvConf(Path file) {
        return new AttachOptions(file, hostResolvConfs, privateRange, tapOwnerUid, tapOwnerGid, pod, ports);
    }

    public AttachOptions withHostResolvConfs(List<Path> files) {
        return new AttachOptions(resolvConf, files, privateRange, tapOwnerUid, tapOwnerGid, pod, ports);
    }

    public AttachOptions withPrivateRange(String cidr) {
        return new AttachOptions(resolvConf, hostResolvConfs, cidr, tapOwnerUid, tapOwnerGid, pod, ports);
    }

    /** A pod's namespace: the guest is routed and serves {@code guestPorts} to the pod's other containers. */
    public AttachOptions inPod(List<GuestPort> guestPorts) {
        return new AttachOptions(resolvConf, hostResolvConfs, privateRange, tapOwnerUid, tapOwnerGid, true, guestPorts);
    }

    public AttachOptions withTapOwner(int uid, int gid) {
        return new AttachOptions(resolvConf, hostResolvConfs, privateRange, OptionalInt.of(uid), OptionalInt.of(gid), pod, ports);
    }
}
