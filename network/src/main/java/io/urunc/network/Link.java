package io.urunc.network;

import java.util.List;

/** One network interface as {@code ip -j -d addr show} reports it. */
record Link(int index, String name, String mac, int mtu, boolean loopback, String kind, String alias,
            List<Address> ipv4) {
    record Address(String address, int prefixLength) {}

    Link {
        ipv4 = List.copyOf(ipv4);
    }

    /** Only an Ethernet link can be joined to a tap: the guest sends and receives Ethernet frames. */
    boolean isEthernet() {
        return mac.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}") && !mac.equals("00:00:00:00:00:00");
    }
}
