package io.urunc.shim.vm;

import io.urunc.shim.bundle.Bundle;
import io.urunc.sys.NamespaceCommands;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Puts the VMM in the container's namespaces, as a container's process would be: for each of ipc, uts and
 * network, the spec's namespace is joined (a path) or a new one made (no path), and a new pid namespace makes
 * the VMM its pid 1. All of it happens in the child, by util-linux {@code nsenter}/{@code unshare} in front of
 * the VMM's command line ({@link NamespaceCommands}): the daemon's threads never change namespace. The mount
 * namespace stays the host's: the VMM opens its private files, sockets and taps by host paths.
 */
public final class VmNamespaces implements VmProcess.NamespaceEntry {
    private static final Set<String> KINDS = Set.of("ipc", "uts", "network");

    private final Map<String, Path> joins;
    private final List<String> creates;
    private final boolean newPid;

    private VmNamespaces(Map<String, Path> joins, List<String> creates, boolean newPid) {
        this.joins = Map.copyOf(joins);
        this.creates = List.copyOf(creates);
        this.newPid = newPid;
    }

    /**
     * The VMM's namespaces for a spec; {@code network} overrides the spec's network entry (the namespace the
     * shim attached the VM's tap in, or created for docker).
     */
    public static VmNamespaces of(List<Bundle.Namespace> spec, Optional<Path> network) {
        Map<String, Path> joins = new LinkedHashMap<>();
        List<String> creates = new ArrayList<>();
        boolean newPid = false;
        for (Bundle.Namespace ns : spec) {
            if (ns.type().equals("pid")) {
                // a shared pid namespace (a path) is not joined: the VMM stays in the daemon's
                newPid |= ns.path().isEmpty() && Files.isExecutable(NamespaceCommands.UNSHARE);
                continue;
            }
            if (!KINDS.contains(ns.type()) || ns.type().equals("network")) continue;
            if (ns.path().isPresent()) joins.put(ns.type(), ns.path().get());
            else creates.add(ns.type());
        }
        if (network.isPresent()) {
            joins.put("network", network.get());
        } else if (spec.stream().anyMatch(ns -> ns.type().equals("network") && ns.path().isEmpty())) {
            creates.add("network"); // a VM without NIC, cut off from the host's network too
        } else {
            spec.stream().filter(ns -> ns.type().equals("network")).findFirst()
                    .flatMap(Bundle.Namespace::path).ifPresent(p -> joins.put("network", p));
        }
        return new VmNamespaces(joins, creates, newPid);
    }

    @Override
    public boolean forks() {
        return newPid;
    }

    @Override
    public List<String> wrap(List<String> argv) {
        return NamespaceCommands.wrap(joins, creates, newPid, argv);
    }
}
