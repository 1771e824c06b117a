package io.urunc.network;

import io.urunc.sys.BoundedRead;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Chooses nameservers a VM can reach. A guest has its own IP stack, so a resolver listening on the
 * container's loopback (docker's embedded DNS 127.0.0.11, systemd-resolved's 127.0.0.53) is unreachable
 * from it. The rule, first non-empty step wins, at most 3 servers (the resolv.conf limit), IPv4 only:
 * <ol>
 *   <li>the non-loopback IPv4 {@code nameserver}s of the container's resolv.conf;</li>
 *   <li>the upstreams docker records in that file's {@code # ExtServers: [...]} comment (docker ≥ 25);</li>
 *   <li>the non-loopback IPv4 nameservers of the host's resolv.conf files, in order
 *       ({@code /run/systemd/resolve/resolv.conf}, which lists systemd-resolved's real upstreams, then
 *       {@code /etc/resolv.conf}) — what docker itself falls back to;</li>
 *   <li>the guest's default gateway (many gateways run a resolver: dnsmasq, home routers, libvirt);</li>
 *   <li>nothing.</li>
 * </ol>
 */
final class GuestDns {
    static final List<Path> HOST_RESOLV_CONFS = List.of(Path.of("/run/systemd/resolve/resolv.conf"),
            Path.of("/etc/resolv.conf"));
    private static final int MAX_SERVERS = 3;
    /** The container's resolv.conf comes from the image: a larger one is ignored, as if absent. */
    static final int MAX_RESOLV_CONF_BYTES = 64 << 10;
    private static final Pattern IPV4 = Pattern.compile("\\b(\\d{1,3}(?:\\.\\d{1,3}){3})\\b");

    private GuestDns() {}

    static List<String> choose(Path containerResolvConf, List<Path> hostResolvConfs, String gateway) {
        if (containerResolvConf != null) {
            List<String> lines = read(containerResolvConf);
            List<String> own = usable(nameservers(lines));
            if (!own.isEmpty()) return own;
            List<String> ext = usable(extServers(lines));
            if (!ext.isEmpty()) return ext;
        }
        for (Path host : hostResolvConfs) {
            List<String> servers = usable(nameservers(read(host)));
            if (!servers.isEmpty()) return servers;
        }
        return gateway == null ? List.of() : List.of(gateway);
    }

    private static List<String> read(Path file) {
        try {
            return new String(BoundedRead.readAll(file, MAX_RESOLV_CONF_BYTES), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<String> nameservers(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 2 && f[0].equals("nameserver")) out.add(f[1]);
        }
        return out;
    }

    private static List<String> extServers(List<String> lines) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String s = line.strip();
            if (s.startsWith("#") && s.contains("ExtServers:")) {
                Matcher m = IPV4.matcher(s.substring(s.indexOf("ExtServers:")));
                while (m.find()) out.add(m.group(1));
            }
        }
        return out;
    }

    private static List<String> usable(List<String> servers) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : servers) {
            if (Ipv4.isValid(s) && !Ipv4.isLoopback(s) && !s.equals("0.0.0.0") && out.size() < MAX_SERVERS) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }
}
