package io.urunc.vmm;

import java.util.List;
import java.util.Objects;

/** What the guest is told about its network (address, gateway, MAC, resolvers). */
public record GuestNetwork(String ipv4, int prefixLength, String gateway /* nullable */, String mac, List<String> dns) {
    public GuestNetwork {
        Objects.requireNonNull(ipv4, "ipv4");
        if (prefixLength < 0 || prefixLength > 32) throw new IllegalArgumentException("prefixLength must be 0..32, got " + prefixLength);
        dns = dns == null ? List.of() : List.copyOf(dns);
    }

    /** The prefix as a dotted netmask, e.g. 24 -> 255.255.255.0. */
    public String netmask() {
        long mask = prefixLength == 0 ? 0 : (0xFFFFFFFFL << (32 - prefixLength)) & 0xFFFFFFFFL;
        return ((mask >> 24) & 255) + "." + ((mask >> 16) & 255) + "." + ((mask >> 8) & 255) + "." + (mask & 255);
    }
}
