package io.urunc.network;

import java.lang.System.Logger.Level;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Connects a VM to a container's network namespace so the VM is reachable exactly like a normal container.
 *
 * <h2>Redirect mode (the first VM of a namespace)</h2>
 * A persistent tap {@code urt<hash of the container id>} (vnet_hdr capable, MTU of the uplink) is created in
 * the namespace and joined to the container's interface (the "uplink": the non-loopback Ethernet link
 * with an IPv4 address that carries the default route, else the first such link; usually {@code eth0}) by
 * two tc rules: an ingress qdisc on each side and a u32 match-all filter with
 * {@code action mirred egress redirect} to the other side. The guest gets the uplink's IPv4, prefix,
 * default gateway and MAC, so nothing outside the namespace notices the difference.
 * <p>The IPv4 address stays on the uplink, as in urunc: the uplink's ingress filter steals every frame
 * before ARP or IP see it, so the namespace's own stack can neither answer ARP for the address nor reply
 * to anything sent to it; only the guest does. Keeping the address keeps the namespace's routes (and what
 * CNI/docker later inspect or delete) untouched, and leaves nothing to restore after a crash. The
 * consequence: processes of the namespace itself cannot talk to the outside or to the guest while it owns
 * the interface (their replies go to the guest).
 *
 * <h2>Private mode (further VMs of the same namespace)</h2>
 * Rather than refusing a second VM (urunc: "can't spawn multiple unikernels in the same network namespace"),
 * it gets its own tap carrying the host side of a free /30 from {@link AttachOptions#privateRange()}
 * (default {@value AttachOptions#DEFAULT_PRIVATE_RANGE}); the guest gets the other address, with the tap's
 * address as gateway and a MAC derived from the container id. It is reachable from every process sharing
 * the namespace (the pod's other containers), not from outside, and it has no route out (no NAT).
 *
 * <h2>Routed mode (a pod's guests)</h2>
 * In a pod the namespace is shared: the pause container holds it and sidecars (mesh proxies, Knative's
 * queue-proxy, log shippers) use its interface. Taking the interface over would cut them off (the ingress redirect
 * steals their ARP replies and every reply to the pod IP). So a pod's guest gets a private /30 on its tap as in
 * private mode, the namespace forwards between tap and uplink, and an nftables table of the guest's own
 * ({@link PodRules}) sends the pod IP's new connections to the guest (declared ports; every port no socket of the
 * namespace listens on, for the pod's first guest) and masquerades the guest's own connections behind the pod IP.
 * The pod's containers reach the guest on {@code 127.0.0.1} and the pod IP for the declared ports, and on the
 * guest's address (the tap's /30 peer) for any port. Forwarding on the uplink is turned on if it was off, and off
 * again with the namespace's last routed tap.
 *
 * <h2>Bookkeeping and cleanup</h2>
 * What attach did is written into the tap's alias ({@link TapMark}), so {@link #detach} and
 * {@link #detachByContainerId} undo it from the namespace alone, touching only objects with this container's
 * exact names: the tap, the tc filter at preference {@value #FILTER_PREF} on the uplink, the uplink's
 * ingress qdisc if attach added it and no other filter uses it, the nftables table {@code urunc_<tap>} of a routed guest and the uplink's
 * forwarding it turned on. Deleting the tap removes its own qdisc, filters, address and sysctls.
 *
 * <h2>Why iproute2 commands, and how few</h2>
 * {@code ip} and {@code tc} (and, for routed guests, {@code nft} and {@code sysctl}) are run with
 * {@code nsenter --net} in front ({@link Commands}): the child joins the namespace, no daemon thread ever does
 * ({@link io.urunc.sys.HostNamespaces}). Netlink through FFM would need a socket in the namespace (only a thread in
 * it can open one) and a re-implementation of tc's u32/mirred attribute encoding; iproute2 is the reference encoder,
 * is present wherever CNI is, gives readable errors, and its JSON output ({@code -j}) is parsed with Jackson. What
 * costs is each exec (~2 ms of spawn here), so attach runs as few as it can, as {@link Batch}es: the namespace is
 * read in one {@code ip -j -batch} (links, default route, and forwarding for a pod), and a redirect attach then
 * makes the tap, its mark and all four tc objects in one more exec (a shell in the namespace feeding an
 * {@code ip -batch} then a {@code tc -batch}): two commands, ~9 ms warm, ~12 ms the first in a daemon from the AOT
 * cache (README, Start-up and memory). That path is optimistic: it assumes the uplink has no ingress qdisc yet
 * and writes the mark saying attach added it. When the uplink's qdisc line fails, nothing on the uplink was
 * changed; the careful path reads the uplink's qdiscs, refuses a clsact, corrects the mark and adds the filter on
 * its own (a crash in between leaves a mark claiming someone else's qdisc: cleanup removes the qdisc only when no
 * filter but ours is on it, so one in use survives; an empty one would not). A batch stops at its first failing line and names it, so rollback undoes exactly the lines before it;
 * names the tools' batch reader would take apart (quotes, {@code #}) run one command a line instead. Detach is
 * four commands (the tap's mark, the uplink's filters, one {@code tc -force -batch} for filter and qdisc, the tap);
 * most of its ~25 ms is the kernel unregistering the tap.
 * Attach and detach are serialised within this JVM only: two processes attaching in one namespace at the
 * same instant could both choose redirect mode (the second then fails on the uplink's filter and rolls back).
 */
public final class UnikernelNetwork {
    static final int FILTER_PREF = 49374;
    /** The line of a redirect attach's tc batch that adds the uplink's ingress qdisc (0-based). */
    static final int UPLINK_QDISC_LINE = 2;
    private static final System.Logger LOG = System.getLogger(UnikernelNetwork.class.getName());
    private static final ReentrantLock LOCK = new ReentrantLock();

    private UnikernelNetwork() {}

    /** Inspects the netns, creates the tap and the redirection. No interface besides loopback: mode none. */
    public static NetworkAttachment attach(Path netns, String containerId) throws NetworkException {
        return attach(netns, containerId, AttachOptions.defaults());
    }

    /** As {@link #attach(Path, String)}, choosing the guest's DNS servers from the container's resolv.conf. */
    public static NetworkAttachment attach(Path netns, String containerId, Path resolvConf) throws NetworkException {
        return attach(netns, containerId, AttachOptions.defaults().withResolvConf(resolvConf));
    }

    public static NetworkAttachment attach(Path netns, String containerId, AttachOptions options)
            throws NetworkException {
        TapNames.validateContainerId(containerId);
        LOCK.lock();
        try {
            long began = System.nanoTime();
            Commands commands = Commands.in(netns);
            NetworkAttachment a = new Attach(commands, containerId, options).run();
            LOG.log(Level.DEBUG, "container {0}: attached ({1}) in {2} ms, {3} commands", containerId, a.mode(),
                    (System.nanoTime() - began) / 1_000_000, commands.started());
            return a;
        } finally {
            LOCK.unlock();
        }
    }

    /** Removes everything attach created; idempotent; works after a VM crash or when the netns is gone. */
    public static void detach(NetworkAttachment attachment) {
        if (!attachment.hasTap()) return;
        remove(attachment.netns(), attachment.tapName(), null);
    }

    /** Cleanup when the attachment record is lost: removes only the objects named for this container. */
    public static void detachByContainerId(Path netns, String containerId) {
        remove(netns, TapNames.tapFor(containerId), containerId);
    }

    /** Whether a link other than loopback in {@code netns} has an IPv4 address (something for a VM to take over). */
    public static boolean hasAddressedInterface(Path netns) throws NetworkException {
        return new NetnsInspector(Commands.in(netns)).links().stream().anyMatch(l -> !l.loopback() && !l.ipv4().isEmpty());
    }

    /** The attachments present in a namespace, by container id (for reconciling after a restart). */
    public static List<String> attachedContainerIds(Path netns) throws NetworkException {
        List<String> ids = new ArrayList<>();
        for (Link l : new NetnsInspector(Commands.in(netns)).links()) {
            TapMark.decode(l.alias()).ifPresent(m -> ids.add(m.containerId()));
        }
        return ids;
    }

    private static void remove(Path netns, String tapName, String expectedContainerId) {
        if (!Files.exists(netns)) {
            LOG.log(Level.DEBUG, "network namespace {0} is gone; nothing to detach", netns);
            return;
        }
        LOCK.lock();
        try {
            Commands commands = Commands.in(netns);
            Optional<Link> tap = new NetnsInspector(commands).link(tapName);
            if (tap.isEmpty()) return;
            Optional<TapMark> mark = TapMark.decode(tap.get().alias());
            if (!tap.get().kind().equals("tun")) {
                LOG.log(Level.WARNING, "{0} in {1} is a ''{2}'' link, not one of our taps: left alone", tapName, netns, tap.get().kind());
                return;
            }
            if (expectedContainerId != null && mark.isPresent()
                    && !mark.get().containerId().equals(expectedContainerId)) {
                LOG.log(Level.WARNING, "tap {0} in {1} belongs to container {2}, not {3}: left alone", tapName, netns,
                        mark.get().containerId(), expectedContainerId);
                return;
            }
            // uplink rules first, tap last: if we die in between, the tap's alias still tells what to undo
            if (mark.isPresent() && mark.get().mode().equals(NetworkAttachment.ROUTED)) {
                removeRouting(commands, mark.get(), tapName);
            } else if (mark.isPresent() && mark.get().uplink() != null) {
                removeUplinkRedirect(commands, mark.get(), tapName);
            }
            quietly(commands, "ip", "link", "del", "dev", tapName);
        } catch (NetworkException e) {
            LOG.log(Level.WARNING, "cleanup of {0} in {1} incomplete: {2}", tapName, netns, e.getMessage());
        } finally {
            LOCK.unlock();
        }
    }

    /**
     * Best effort: the uplink may already be gone (CNI DEL ran first), which removed its rules with it. The qdisc
     * attach added goes only when no filter but ours is on it: one that carries someone else's filter is in use (and
     * would be someone else's, had a crash come between attach finding it and correcting the mark).
     */
    static void removeUplinkRedirect(Commands commands, TapMark mark, String tapName) throws NetworkException {
        String uplink = mark.uplink();
        List<NetnsInspector.IngressFilter> filters;
        try {
            filters = new NetnsInspector(commands).ingressFilters(uplink);
        } catch (CommandFailedException e) {
            LOG.log(Level.DEBUG, "uplink {0} of {1} not inspectable ({2}): nothing to remove there", uplink, tapName, e.stderr());
            return;
        }
        boolean ours = filters.stream().anyMatch(f -> f.pref() == FILTER_PREF && tapName.equals(f.redirectTo()));
        boolean othersFilters = filters.stream().anyMatch(f -> f.pref() != FILTER_PREF);
        Batch tc = new Batch("tc");
        if (ours) tc.add("filter", "del", "dev", uplink, "parent", "ffff:", "pref", Integer.toString(FILTER_PREF));
        if (mark.ownsUplinkQdisc() && !othersFilters) tc.add("qdisc", "del", "dev", uplink, "ingress");
        if (tc.size() == 0) return;
        Commands.Result r = commands.tryRun(tc);
        if (!r.ok()) LOG.log(Level.DEBUG, "''{0}'' in {1}: {2}", tc.script().strip().replace('\n', ';'), commands.netns(),
                r.stderr().strip());
    }

    /**
     * A routed guest's table goes; forwarding on the uplink goes off with the namespace's last routed tap, or passes
     * to another routed tap's mark if one remains (best effort: the uplink may be gone already).
     */
    static void removeRouting(Commands commands, TapMark mark, String tapName) throws NetworkException {
        quietly(commands, "nft", "delete", "table", "ip", PodRules.table(tapName));
        if (!mark.ownsForwarding()) return;
        Optional<Link> heir = new NetnsInspector(commands).links().stream()
                .filter(l -> !l.name().equals(tapName) && l.kind().equals("tun"))
                .filter(l -> TapMark.decode(l.alias()).filter(m -> m.mode().equals(NetworkAttachment.ROUTED)
                        && mark.uplink().equals(m.uplink())).isPresent())
                .findFirst();
        if (heir.isPresent()) {
            TapMark heirMark = TapMark.decode(heir.get().alias()).orElseThrow().withOwnsForwarding(true);
            quietly(commands, "ip", "link", "set", "dev", heir.get().name(), "alias", heirMark.encode());
        } else {
            quietly(commands, "sysctl", "-qw", forwarding(mark.uplink()) + "=0");
        }
    }

    static String forwarding(String device) {
        return "net/ipv4/conf/" + device + "/forwarding";
    }

    private static void quietly(Commands commands, String... argv) throws NetworkException {
        Commands.Result r = commands.tryRun(argv);
        if (!r.ok()) LOG.log(Level.DEBUG, "''{0}'' in {1}: {2}", String.join(" ", argv), commands.netns(), r.stderr().strip());
    }

    /** One attach: every step that creates something pushes its undo, run in reverse on failure. */
    private static final class Attach {
        private final Commands commands;
        private final NetnsInspector inspector;
        private final String containerId;
        private final AttachOptions options;
        private final String tapName;
        private final Deque<Step> undo = new ArrayDeque<>();

        Attach(Commands commands, String containerId, AttachOptions options) {
            this.commands = commands;
            this.inspector = new NetnsInspector(commands);
            this.containerId = containerId;
            this.options = options;
            this.tapName = TapNames.tapFor(containerId);
        }

        NetworkAttachment run() throws NetworkException {
            NetnsInspector.Snapshot snapshot = inspector.snapshot(options.pod());
            if (reclaimStaleTap(snapshot.links())) snapshot = inspector.snapshot(options.pod());
            List<Link> links = snapshot.links();
            List<Link> candidates = links.stream()
                    .filter(l -> !l.loopback() && l.isEthernet() && !l.ipv4().isEmpty()
                            && TapMark.decode(l.alias()).isEmpty())
                    .toList();
            boolean interfaceTaken = links.stream().map(l -> TapMark.decode(l.alias()))
                    .anyMatch(m -> m.isPresent() && m.get().mode().equals(NetworkAttachment.REDIRECT));
            if (candidates.isEmpty() && !interfaceTaken) {
                LOG.log(Level.INFO, "no Ethernet interface with IPv4 in {0}: container {1} gets a VM without NIC",
                        commands.netns(), containerId);
                return new NetworkAttachment(commands.netns(), null, Optional.empty(), NetworkAttachment.NONE);
            }
            try {
                if (options.pod() && !interfaceTaken && !candidates.isEmpty()) return attachRouted(candidates, snapshot);
                return interfaceTaken ? attachPrivate(links) : attachRedirect(candidates, snapshot.defaultRoute());
            } catch (NetworkException | RuntimeException e) {
                rollback();
                throw e;
            }
        }

        /** A tap with our exact name left by an earlier attach of the same container (shim crash) is removed. */
        private boolean reclaimStaleTap(List<Link> links) throws NetworkException {
            Optional<Link> existing = links.stream().filter(l -> l.name().equals(tapName)).findFirst();
            if (existing.isEmpty()) return false;
            Optional<TapMark> mark = TapMark.decode(existing.get().alias());
            if (!existing.get().kind().equals("tun") || mark.isEmpty()
                    || !mark.get().containerId().equals(containerId)) {
                throw new NetworkException("interface " + tapName + " already exists in " + commands.netns()
                        + " and is not a leftover of container " + containerId + " (alias '"
                        + existing.get().alias() + "')");
            }
            LOG.log(Level.WARNING, "removing leftover tap {0} of container {1} in {2}", tapName, containerId, commands.netns());
            if (mark.get().mode().equals(NetworkAttachment.ROUTED)) removeRouting(commands, mark.get(), tapName);
            else if (mark.get().uplink() != null) removeUplinkRedirect(commands, mark.get(), tapName);
            commands.run("ip", "link", "del", "dev", tapName);
            return true;
        }

        /** The link carrying the default route, else the first candidate. */
        private Link uplink(List<Link> candidates, Optional<NetnsInspector.DefaultRoute> route) {
            return candidates.stream()
                    .filter(l -> route.isPresent() && l.name().equals(route.get().device()))
                    .findFirst().orElse(candidates.getFirst());
        }

        private NetworkAttachment attachRouted(List<Link> candidates, NetnsInspector.Snapshot snapshot)
                throws NetworkException {
            List<Link> links = snapshot.links();
            Link uplink = uplink(candidates, snapshot.defaultRoute());
            String podIp = uplink.ipv4().getFirst().address();
            PrivateSubnets.Block block = PrivateSubnets.firstFree(options.privateRange(), links)
                    .orElseThrow(() -> new NetworkException("no free /30 left in " + options.privateRange() + " in "
                            + commands.netns() + " for container " + containerId));
            boolean catchAll = links.stream().map(l -> TapMark.decode(l.alias()))
                    .noneMatch(m -> m.isPresent() && m.get().mode().equals(NetworkAttachment.ROUTED) && m.get().catchAll());
            requireFreePorts(links);
            Optional<Boolean> reported = snapshot.forwarding(uplink.name());
            boolean forwardingOff = !(reported.isPresent() ? reported.get()
                    : commands.run("sysctl", "-n", forwarding(uplink.name())).strip().equals("1"));
            String script;
            try {
                script = PodRules.script(tapName, uplink.name(), podIp, block.guestAddress(), options.ports(), catchAll);
            } catch (IllegalArgumentException e) {
                throw new NetworkException("container " + containerId + " in " + commands.netns() + ": " + e.getMessage());
            }

            run(createTap(uplink.mtu(), new TapMark(NetworkAttachment.ROUTED, uplink.name(), false, forwardingOff,
                    catchAll, containerId))
                    .add("addr", "add", block.hostAddress() + "/" + PrivateSubnets.Block.PREFIX, "dev", tapName));
            // the tap's two die with it; route_localnet lets 127.0.0.1 connections DNATed to the guest leave on it
            List<String> sysctl = new ArrayList<>(List.of("sysctl", "-qw", forwarding(tapName) + "=1",
                    "net/ipv4/conf/" + tapName + "/route_localnet=1"));
            if (forwardingOff) {
                // pushed first: sysctl -w sets what it can when one key fails, and 0 is what it was
                undo.push(new Step(new String[] {"sysctl", "-qw", forwarding(uplink.name()) + "=0"}));
                sysctl.add(forwarding(uplink.name()) + "=1");
            }
            commands.run(sysctl.toArray(String[]::new));
            undo.push(new Step(new String[] {"nft", "delete", "table", "ip", PodRules.table(tapName)}));
            commands.runWithInput(script, "nft", "-f", "-");
            GuestNetworkConfig guest = new GuestNetworkConfig(block.guestAddress(), PrivateSubnets.Block.PREFIX,
                    block.hostAddress(), TapNames.privateMacFor(containerId), uplink.mtu(), dns(null));
            LOG.log(Level.INFO, "container {0}: routed tap {1} in {2}, guest {3}/30 behind pod IP {4} on {5} (ports {6}{7})", containerId,
                    tapName, commands.netns(), guest.ipv4(), podIp, uplink.name(), options.ports(),
                    catchAll ? ", and every port nothing in the pod listens on" : "");
            return new NetworkAttachment(commands.netns(), tapName, Optional.of(guest), NetworkAttachment.ROUTED);
        }

        /** Two containers of a pod cannot serve one port: a port another guest of the pod declared is refused. */
        private void requireFreePorts(List<Link> links) throws NetworkException {
            if (options.ports().isEmpty()) return;
            for (Link l : links) {
                Optional<TapMark> m = TapMark.decode(l.alias());
                if (m.isEmpty() || !m.get().mode().equals(NetworkAttachment.ROUTED)) continue;
                Commands.Result listing = commands.tryRun("nft", "list", "table", "ip", PodRules.table(l.name()));
                if (!listing.ok()) continue;
                List<GuestPort> taken = PodRules.declaredPorts(listing.stdout());
                List<GuestPort> clash = options.ports().stream().filter(taken::contains).toList();
                if (!clash.isEmpty()) {
                    throw new NetworkException("container " + containerId + ": port(s) " + clash + " already served"
                            + " by container " + m.get().containerId() + " of the same pod (" + commands.netns() + ")");
                }
            }
        }

        /**
         * Optimistic: the uplink has no ingress qdisc yet (the first VM of a namespace), so tap, mark and all four
         * tc objects go in one {@code ip -batch} and one {@code tc -batch}. When the uplink's qdisc already exists
         * (its line fails, nothing on the uplink was changed yet), the careful path looks at it, corrects the mark
         * and adds the filter alone.
         */
        private NetworkAttachment attachRedirect(List<Link> candidates, Optional<NetnsInspector.DefaultRoute> route)
                throws NetworkException {
            Link uplink = uplink(candidates, route);
            String gateway = route.filter(r -> r.device().equals(uplink.name()))
                    .map(NetnsInspector.DefaultRoute::gateway).orElse(null);
            String up = uplink.name(), pref = Integer.toString(FILTER_PREF);

            TapMark optimistic = new TapMark(NetworkAttachment.REDIRECT, up, true, containerId);
            Batch ip = createTap(uplink.mtu(), optimistic);
            String[] uplinkFilter = {"filter", "add", "dev", up, "parent", "ffff:", "protocol", "all", "pref", pref,
                    "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", tapName};
            List<String> uplinkFilterUndo = List.of("tc", "filter", "del", "dev", up, "parent", "ffff:", "pref", pref);
            // the tap's qdisc and filter die with it; the uplink's filter last: from then on its traffic is the guest's
            Batch tc = new Batch("tc")
                    .add("qdisc", "add", "dev", tapName, "ingress")
                    .add("filter", "add", "dev", tapName, "parent", "ffff:", "protocol", "all", "pref", pref,
                            "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", up)
                    .addUndoable(List.of("tc", "qdisc", "del", "dev", up, "ingress"), "qdisc", "add", "dev", up, "ingress")
                    .addUndoable(uplinkFilterUndo, uplinkFilter);
            try {
                run(List.of(ip, tc));
            } catch (Batch.Failed e) {
                if (e.batch() == tc && e.line() < 0) {
                    // which tc lines ran is unknown: the uplink is cleaned as detach would, from what is there
                    removeUplinkRedirect(commands, optimistic, tapName);
                }
                if (e.batch() != tc || e.line() != UPLINK_QDISC_LINE) throw e;
                List<String> ingress = inspector.ingressQdiscKinds(up);
                if (ingress.contains("clsact")) {
                    throw new NetworkException(up + " in " + commands.netns()
                            + " has a clsact qdisc (another tool filters it): cannot redirect it to the VM");
                }
                if (ingress.isEmpty()) throw e;
                // the qdisc is someone else's: the mark must not say attach added it (detach would remove it)
                commands.run("ip", "link", "set", "dev", tapName, "alias",
                        new TapMark(NetworkAttachment.REDIRECT, up, false, containerId).encode());
                run(new Batch("tc").addUndoable(uplinkFilterUndo, uplinkFilter));
            }

            Link.Address address = uplink.ipv4().getFirst();
            GuestNetworkConfig guest = new GuestNetworkConfig(address.address(), address.prefixLength(), gateway,
                    uplink.mac(), uplink.mtu(), dns(gateway));
            LOG.log(Level.INFO, "container {0}: tap {1} redirected to {2} in {3}, guest {4}/{5}", containerId, tapName, uplink.name(),
                    commands.netns(), guest.ipv4(), guest.prefixLength());
            return new NetworkAttachment(commands.netns(), tapName, Optional.of(guest), NetworkAttachment.REDIRECT);
        }

        private NetworkAttachment attachPrivate(List<Link> links) throws NetworkException {
            PrivateSubnets.Block block = PrivateSubnets.firstFree(options.privateRange(), links)
                    .orElseThrow(() -> new NetworkException("no free /30 left in " + options.privateRange() + " in "
                            + commands.netns() + " for container " + containerId));
            int mtu = links.stream().filter(l -> !l.loopback() && TapMark.decode(l.alias()).isEmpty())
                    .mapToInt(Link::mtu).findFirst().orElse(1500);
            run(createTap(mtu, new TapMark(NetworkAttachment.PRIVATE, null, false, containerId))
                    .add("addr", "add", block.hostAddress() + "/" + PrivateSubnets.Block.PREFIX, "dev", tapName));
            GuestNetworkConfig guest = new GuestNetworkConfig(block.guestAddress(), PrivateSubnets.Block.PREFIX,
                    block.hostAddress(), TapNames.privateMacFor(containerId), mtu, dns(null));
            LOG.log(Level.INFO, "container {0}: private tap {1} in {2}, guest {3}/30 (the namespace''s interface already serves a VM)",
                    containerId, tapName, commands.netns(), guest.ipv4());
            return new NetworkAttachment(commands.netns(), tapName, Optional.of(guest), NetworkAttachment.PRIVATE);
        }

        /** The tap with its mark, MTU and up, as the start of an {@code ip} batch; deleting it undoes the lot. */
        private Batch createTap(int mtu, TapMark mark) {
            List<String> add = new ArrayList<>(List.of("tuntap", "add", "dev", tapName, "mode", "tap", "vnet_hdr"));
            options.tapOwnerUid().ifPresent(uid -> add.addAll(List.of("user", Integer.toString(uid))));
            options.tapOwnerGid().ifPresent(gid -> add.addAll(List.of("group", Integer.toString(gid))));
            return new Batch("ip")
                    .addOwned(List.of("ip", "link", "del", "dev", tapName), add.toArray(String[]::new))
                    .add("link", "set", "dev", tapName, "alias", mark.encode(), "mtu", Integer.toString(mtu), "up");
        }

        private List<String> dns(String gateway) {
            return GuestDns.choose(options.resolvConf(), options.hostResolvConfs(), gateway);
        }

        /** Runs a batch and remembers how to revert what ran, also when a line of it failed. */
        private void run(Batch batch) throws NetworkException {
            run(List.of(batch));
        }

        /** Runs batches in one exec ({@link Commands#run(List)}), remembering how to revert what ran. */
        private void run(List<Batch> batches) throws NetworkException {
            try {
                commands.run(batches);
            } catch (Batch.Failed e) {
                remember(e.undos());
                throw e;
            }
            for (Batch b : batches) remember(b.undos());
        }

        /** {@code undos} last first, as Batch gives them: pushed so that the last one pops first. */
        private void remember(List<List<String>> undos) {
            for (int i = undos.size() - 1; i >= 0; i--) undo.push(new Step(undos.get(i).toArray(String[]::new)));
        }

        private void rollback() {
            while (!undo.isEmpty()) {
                String[] argv = undo.pop().argv();
                try {
                    quietly(commands, argv);
                } catch (NetworkException e) {
                    LOG.log(Level.WARNING, "rollback step ''{0}'' failed: {1}", String.join(" ", argv), e.getMessage());
                }
            }
        }

        private record Step(String[] argv) {}
    }
}
