package io.urunc.network;

import java.util.Optional;

/**
 * What attach did, written into the tap's alias ({@code ip link set dev T alias ...}) so that detach can undo
 * it from the namespace alone (after a shim restart, or when the VM crashed):
 * {@code urunc:<mode>:<uplink or ->:<flags>:<container id>}. Flags are {@code 0} (none) or letters:
 * {@code 1} attach added the uplink's ingress qdisc (redirect mode), {@code f} attach turned forwarding on on
 * the uplink and must turn it off with the namespace's last routed tap, {@code c} this guest takes the pod IP's
 * connections no other rule claims (routed mode, see {@link PodRules}).
 */
record TapMark(String mode, String uplink, boolean ownsUplinkQdisc, boolean ownsForwarding, boolean catchAll,
               String containerId) {
    private static final String PREFIX = "urunc:";

    TapMark(String mode, String uplink, boolean ownsUplinkQdisc, String containerId) {
        this(mode, uplink, ownsUplinkQdisc, false, false, containerId);
    }

    String encode() {
        String flags = (ownsUplinkQdisc ? "1" : "") + (ownsForwarding ? "f" : "") + (catchAll ? "c" : "");
        return PREFIX + mode + ":" + (uplink == null ? "-" : uplink) + ":" + (flags.isEmpty() ? "0" : flags) + ":"
                + containerId;
    }

    TapMark withOwnsForwarding(boolean owns) {
        return new TapMark(mode, uplink, ownsUplinkQdisc, owns, catchAll, containerId);
    }

    static Optional<TapMark> decode(String alias) {
        if (alias == null || !alias.startsWith(PREFIX)) return Optional.empty();
        String[] parts = alias.substring(PREFIX.length()).split(":", 4);
        if (parts.length != 4) return Optional.empty();
        String mode = parts[0];
        if (!mode.equals(NetworkAttachment.REDIRECT) && !mode.equals(NetworkAttachment.PRIVATE)
                && !mode.equals(NetworkAttachment.ROUTED)) {
            return Optional.empty();
        }
        String flags = parts[2];
        return Optional.of(new TapMark(mode, parts[1].equals("-") ? null : parts[1], flags.contains("1"),
                flags.contains("f"), flags.contains("c"), parts[3]));
    }
}
