package io.urunc.network;

import java.util.List;
import java.util.Objects;

/**
 * What the guest must configure on its NIC: IPv4 address and prefix, default gateway (null when the
 * namespace has no default route), MAC, MTU, and the nameservers it can actually reach.
 */
public record GuestNetworkConfig(String ipv4, int prefixLength, String gateway, String mac, int mtu, List<String> dns) {
    public GuestNetworkConfig {
        Ipv4.parse(Objects.requireNonNull(ipv4, "ipv4"));
        if (prefixLength < 0 || prefixLength > 32) {
            throw new IllegalArgumentException("IPv4 prefix length must be 0..32, got " + prefixLength);
        }
        if (gateway != null) Ipv4.parse(gateway);
        if (!Objects.requireNonNull(mac, "mac").matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
            throw new IllegalArgumentException("MAC address must look like 02:00:00:00:00:01, got '" + mac + "'");
        }
        mac = mac.toLowerCase(java.util.Locale.ROOT);
        if (mtu < 68) throw new IllegalArgumentException("MTU must be at least 68, got " + mtu);
        dns = List.copyOf(dns);
    }

    /** The netmask in dotted form ({@code 255.255.255.0}), as Linux {@code ip=} and Rumprun want it. */
    public String netmask() {
        return Ipv4.format(Ipv4.mask(prefixLength));
    }
}
