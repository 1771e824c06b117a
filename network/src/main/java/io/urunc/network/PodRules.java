package io.urunc.network;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The nftables table of one routed guest in a pod's namespace ({@code table ip urunc_<tap>}): one table per guest,
 * so detach is one {@code nft delete table} and no rule of another guest or tool is ever touched.
 * <ul>
 *   <li><b>declared ports</b> (prerouting, priority {@value #PORTS_PRIORITY}): new connections from outside to the
 *       pod IP on a port the image declares go to this guest;</li>
 *   <li><b>catch-all</b> (prerouting, {@value #REST_PRIORITY}, the pod's first guest only): any other new
 *       connection to the pod IP goes to the guest, unless a socket of the namespace (a sidecar listening on
 *       that port, e.g. queue-proxy's 8012) is bound to it: {@code socket transparent { 0, 1 }} matches whenever
 *       the lookup finds a socket, wildcard listeners included. Replies to the sidecars' own connections are
 *       conntrack-established and never reach a nat chain, so the sidecars keep their egress;</li>
 *   <li><b>local</b> (output, {@value #PORTS_PRIORITY}): the pod's containers connecting to {@code 127.0.0.1} or the pod IP on a declared
 *       port reach the guest, as they would reach an ordinary container's listener;</li>
 *   <li><b>masquerade</b> (postrouting): the guest's own connections leave with the pod IP; connections from
 *       {@code 127.0.0.1} leave towards the guest from the tap's address (with route_localnet on the tap).</li>
 * </ul>
 */
final class PodRules {
    /**
     * After the standard nat priority (-100, iptables' nat chains): a mesh's own inbound capture (istio-init's
     * REDIRECT to its proxy) binds the connection first and these chains are then skipped for it; declared ports
     * before the catch-all.
     */
    static final int PORTS_PRIORITY = -90, REST_PRIORITY = -80;
    static final String TABLE_PREFIX = "urunc_";
    private static final Pattern DECLARED =
            Pattern.compile("iifname \\S+ ip daddr \\S+ (tcp|udp) dport (\\{[^}]*\\}|\\d+) dnat");

    private PodRules() {}

    static String table(String tapName) {
        return TABLE_PREFIX + tapName;
    }

    /** The {@code nft -f} script creating the table; applied atomically (all of it or nothing). */
    static String script(String tapName, String uplink, String podIp, String guestIp, List<GuestPort> ports,
                         boolean catchAll) {
        requireIfName(uplink);
        requireIfName(tapName);
        Ipv4.parse(podIp);
        Ipv4.parse(guestIp);
        StringBuilder s = new StringBuilder();
        s.append("table ip ").append(table(tapName)).append(" {\n");
        String fromOutside = "iifname \"" + uplink + "\" ip daddr " + podIp;
        if (!ports.isEmpty()) {
            s.append("  chain ports {\n    type nat hook prerouting priority ").append(PORTS_PRIORITY)
                    .append("; policy accept;\n");
            for (String proto : List.of("tcp", "udp")) {
                String set = portSet(ports, proto);
                if (set != null) s.append("    ").append(fromOutside).append(' ').append(proto).append(" dport ")
                        .append(set).append(" dnat to ").append(guestIp).append('\n');
            }
            s.append("  }\n");
            s.append("  chain local {\n    type nat hook output priority ").append(PORTS_PRIORITY)
                    .append("; policy accept;\n");
            for (String proto : List.of("tcp", "udp")) {
                String set = portSet(ports, proto);
                if (set != null) s.append("    ip daddr { 127.0.0.1, ").append(podIp).append(" } ").append(proto)
                        .append(" dport ").append(set).append(" dnat to ").append(guestIp).append('\n');
            }
            s.append("  }\n");
        }
        if (catchAll) {
            s.append("  chain rest {\n    type nat hook prerouting priority ").append(REST_PRIORITY)
                    .append("; policy accept;\n")
                    .append("    ").append(fromOutside).append(" socket transparent { 0, 1 } return\n")
                    .append("    ").append(fromOutside).append(" dnat to ").append(guestIp).append('\n')
                    .append("  }\n");
        }
        s.append("  chain out {\n    type nat hook postrouting priority 100; policy accept;\n")
                .append("    oifname \"").append(uplink).append("\" ip saddr ").append(guestIp).append(" masquerade\n")
                .append("    oifname \"").append(tapName).append("\" ip saddr 127.0.0.0/8 masquerade\n")
                .append("  }\n}\n");
        return s.toString();
    }

    /** The declared ports in {@code nft list table} output of a table {@link #script} made. */
    static List<GuestPort> declaredPorts(String listing) {
        List<GuestPort> out = new ArrayList<>();
        Matcher m = DECLARED.matcher(listing);
        while (m.find()) {
            for (String p : m.group(2).replaceAll("[{}]", " ").split("[,\\s]+")) {
                if (!p.isEmpty()) out.add(new GuestPort(Integer.parseInt(p), m.group(1)));
            }
        }
        return out;
    }

    private static String portSet(List<GuestPort> ports, String protocol) {
        String set = ports.stream().filter(p -> p.protocol().equals(protocol)).map(p -> Integer.toString(p.port()))
                .collect(Collectors.joining(", "));
        return set.isEmpty() ? null : "{ " + set + " }";
    }

    /**
     * Prints the script, for {@code bench/run-podnet.sh} (which measures these rules with a veth in place of the
     * tap): {@code TAP UPLINK POD_IP GUEST_IP PORTS CATCH_ALL}.
     */
    static void main(String[] args) {
        System.out.print(script(args[0], args[1], args[2], args[3], GuestPort.parseList(args[4]),
                Boolean.parseBoolean(args[5])));
    }

    /** Interface names go into the script quoted: refuse anything that could end the quote. */
    static void requireIfName(String name) {
        if (!name.matches("[A-Za-z0-9_.@-]{1,15}")) {
            throw new IllegalArgumentException("interface name '" + name + "' cannot be used in nftables rules");
        }
    }
}
