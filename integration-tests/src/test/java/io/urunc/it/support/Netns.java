package io.urunc.it.support;

import java.time.Duration;
import java.util.Map;

/**
 * A network namespace wired to the host by a veth pair, as a CNI bridge or docker would leave it: the
 * container side is eth0 with an address and a default route via the host side.
 */
public final class Netns implements AutoCloseable {
    private final String name;
    private final String hostVeth;
    public final String hostIp;
    public final String containerIp;

    public Netns(String name, int subnet) {
        this.name = name;
        this.hostVeth = "vh" + name.hashCode() % 100000;
        this.hostIp = "10.213." + subnet + ".1";
        this.containerIp = "10.213." + subnet + ".2";
        try {
            ip("netns", "add", name);
            ip("link", "add", hostVeth, "type", "veth", "peer", "name", "eth0", "netns", name);
            ip("addr", "add", hostIp + "/24", "dev", hostVeth);
            ip("link", "set", hostVeth, "up");
            ip("-n", name, "addr", "add", containerIp + "/24", "dev", "eth0");
            ip("-n", name, "link", "set", "eth0", "up");
            ip("-n", name, "link", "set", "lo", "up");
            ip("-n", name, "route", "add", "default", "via", hostIp);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public String path() {
        return "/var/run/netns/" + name;
    }

    public String name() {
        return name;
    }

    public static Exec.Result ip(String... args) {
        return Exec.run(Duration.ofSeconds(10), Map.of(), Exec.concat(java.util.List.of("ip"), args)).ok();
    }

    /** `ip -o link` inside the namespace. */
    public String links() {
        return Exec.run(Duration.ofSeconds(10), Map.of(), "ip", "-n", name, "-o", "link").stdout();
    }

    public String ingressFilters(String dev) {
        return Exec.run(Duration.ofSeconds(10), Map.of(), "tc", "-n", name, "filter", "show", "dev", dev, "ingress").stdout();
    }

    public String qdiscs() {
        return Exec.run(Duration.ofSeconds(10), Map.of(), "tc", "-n", name, "qdisc", "show").stdout();
    }

    @Override
    public void close() {
        Exec.run(Duration.ofSeconds(10), Map.of(), "ip", "link", "del", hostVeth);
        Exec.run(Duration.ofSeconds(10), Map.of(), "ip", "netns", "del", name);
    }
}
