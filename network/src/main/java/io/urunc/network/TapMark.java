package io.urunc.network;

import java.util.Optional;

/**
 * What attach did, written into the tap's alias ({@code ip link set dev T alias ...}) so that detach can undo
 * it from the namespace alone (after a shim restart, or when the VM crashed):
 * {@code urunc:<mode>:<uplink or ->:<1 if we added the uplink's ingress qdisc, else 0>:<container id>}.
 */
record TapMark(String mode, String uplink, boolean ownsUplinkQdisc, String containerId) {
    private static final String PREFIX = "urunc:";

    String encode() {
        return PREFIX + mode + ":" + (uplink == null ? "-" : uplink) + ":" + (ownsUplinkQdisc ? 1 : 0) + ":"
                + containerId;
    }

    static Optional<TapMark> decode(String alias) {
        if (alias == null || !alias.startsWith(PREFIX)) return Optional.empty();
        String[] parts = alias.substring(PREFIX.length()).split(":", 4);
        if (parts.length != 4) return Optional.empty();
        String mode = parts[0];
        if (!mode.equals(NetworkAttachment.REDIRECT) && !mode.equals(NetworkAttachment.PRIVATE)) {
            return Optional.empty();
        }
        return Optional.of(new TapMark(mode, parts[1].equals("-") ? null : parts[1], parts[2].equals("1"), parts[3]));
    }
}
