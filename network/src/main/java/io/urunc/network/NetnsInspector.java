package io.urunc.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads links, addresses, routes and qdiscs of the namespace through {@code ip -j} / {@code tc -j}. */
final class NetnsInspector {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Commands commands;

    NetnsInspector(Commands commands) {
        this.commands = commands;
    }

    List<Link> links() throws NetworkException {
        return links(parse(commands.run("ip", "-j", "-d", "addr", "show"), "ip addr show"));
    }

    /**
     * Links, the IPv4 default route and (with {@code forwarding}) each interface's IPv4 forwarding, from one
     * {@code ip -j -d -batch}: one exec where attach used to need two or three.
     */
    Snapshot snapshot(boolean forwarding) throws NetworkException {
        Batch batch = new Batch("ip").add("addr", "show").add("route", "show", "default");
        if (forwarding) batch.add("netconf", "show");
        String out = commands.runWithInput(batch.script(), "ip", "-j", "-d", "-batch", "-");
        List<JsonNode> parts = new ArrayList<>();
        try (var parser = JSON.createParser(out)) {
            while (parser.nextToken() != null) parts.add(JSON.readTree(parser));
        } catch (Exception e) {
            throw new NetworkException("cannot parse the JSON output of 'ip -j -d -batch' (" + batch.script().strip()
                    .replace('\n', ';') + ") in " + commands.netns() + ": " + e.getMessage(), e);
        }
        if (parts.size() != batch.size() || !parts.stream().allMatch(JsonNode::isArray)) {
            // an iproute2 that prints a batch's JSON otherwise than one array per command: one command each
            return new Snapshot(links(), defaultRoute(), Map.of());
        }
        Map<String, Boolean> forwardingByDevice = new HashMap<>();
        if (forwarding) {
            for (JsonNode c : parts.get(2)) {
                JsonNode f = c.path("forwarding");
                if (!"inet".equals(c.path("family").asText()) || f.isMissingNode()) continue;
                forwardingByDevice.put(c.path("interface").asText(), f.isBoolean() ? f.asBoolean() : f.asText().equals("on"));
            }
        }
        return new Snapshot(links(parts.get(0)), defaultRoute(parts.get(1)), forwardingByDevice);
    }

    /** What attach decides from: the namespace's links, its default route, forwarding per device (if asked). */
    record Snapshot(List<Link> links, Optional<DefaultRoute> defaultRoute, Map<String, Boolean> forwarding) {
        /** IPv4 forwarding of {@code device}; empty if {@code ip netconf} did not report it. */
        Optional<Boolean> forwarding(String device) {
            return Optional.ofNullable(forwarding.get(device));
        }
    }

    private static List<Link> links(JsonNode addrShow) {
        List<Link> links = new ArrayList<>();
        for (JsonNode n : addrShow) {
            List<Link.Address> v4 = new ArrayList<>();
            for (JsonNode a : n.path("addr_info")) {
                if ("inet".equals(a.path("family").asText())) {
                    v4.add(new Link.Address(a.path("local").asText(), a.path("prefixlen").asInt()));
                }
            }
            boolean loopback = false;
            for (JsonNode f : n.path("flags")) loopback |= "LOOPBACK".equals(f.asText());
            links.add(new Link(n.path("ifindex").asInt(), n.path("ifname").asText(), n.path("address").asText(""),
                    n.path("mtu").asInt(1500), loopback, n.path("linkinfo").path("info_kind").asText(""),
                    n.path("ifalias").asText(""), v4));
        }
        return links;
    }

    Optional<Link> link(String name) throws NetworkException {
        return links().stream().filter(l -> l.name().equals(name)).findFirst();
    }

    /** The IPv4 default route as (device, gateway); gateway is null for a device route. */
    Optional<DefaultRoute> defaultRoute() throws NetworkException {
        return defaultRoute(parse(commands.run("ip", "-j", "-4", "route", "show", "default"), "ip route show"));
    }

    private static Optional<DefaultRoute> defaultRoute(JsonNode routeShow) {
        for (JsonNode r : routeShow) {
            String dev = r.path("dev").asText(null);
            if (dev != null) return Optional.of(new DefaultRoute(dev, r.path("gateway").asText(null)));
        }
        return Optional.empty();
    }

    /** Kinds of the qdiscs attached to the ingress side of {@code device} ("ingress" or "clsact"). */
    List<String> ingressQdiscKinds(String device) throws NetworkException {
        List<String> kinds = new ArrayList<>();
        for (JsonNode q : parse(commands.run("tc", "-j", "qdisc", "show", "dev", device), "tc qdisc show")) {
            String kind = q.path("kind").asText();
            if (kind.equals("ingress") || kind.equals("clsact")) kinds.add(kind);
        }
        return kinds;
    }

    /**
     * Filters on the ingress hook of {@code device}: (pref, redirect target or null), one per entry tc lists (a
     * u32 filter is listed as its hash table and its node).
     */
    List<IngressFilter> ingressFilters(String device) throws NetworkException {
        List<IngressFilter> filters = new ArrayList<>();
        JsonNode all = parse(commands.run("tc", "-j", "filter", "show", "dev", device, "parent", "ffff:"),
                "tc filter show");
        for (JsonNode f : all) {
            String to = null;
            for (JsonNode action : f.path("options").path("actions")) {
                if ("mirred".equals(action.path("kind").asText())) to = action.path("to_dev").asText(null);
            }
            filters.add(new IngressFilter(f.path("pref").asInt(), to));
        }
        return filters;
    }

    record DefaultRoute(String device, String gateway) {}

    record IngressFilter(int pref, String redirectTo) {}

    private JsonNode parse(String output, String what) throws NetworkException {
        if (output.isBlank()) return JSON.createArrayNode();
        try {
            return JSON.readTree(output);
        } catch (Exception e) {
            throw new NetworkException("cannot parse the JSON output of '" + what + "' in " + commands.netns()
                    + ": " + e.getMessage(), e);
        }
    }
}
