package io.urunc.vmm;

import java.util.Objects;

/** Host side of the guest NIC: the tap device the VMM attaches to and the MAC it gives the virtual NIC. */
public record NetAttachment(String tapName, String mac) {
    public NetAttachment {
        Objects.requireNonNull(tapName, "tapName");
        Objects.requireNonNull(mac, "mac");
    }
}
