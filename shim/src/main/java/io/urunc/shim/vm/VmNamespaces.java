package io.urunc.shim.vm;

import io.urunc.shim.bundle.Bundle;
import io.urunc.sys.Libc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Puts the VMM in the container's namespaces, as a container's process would be: for each of ipc, uts and
 * network, the spec's namespace is joined (a path) or a new one made (no path). The fork happens on a
 * throwaway platform thread that did the setns/unshare calls (they act on the calling thread only), so the
 * daemon itself never changes namespace. A new pid namespace cannot be made that way (the kernel refuses
 * the JVM's next thread from such a thread), so util-linux {@code unshare --pid --fork --kill-child} starts
 * the VMM as pid 1 of its own namespace. The mount namespace stays the host's: the VMM opens the kernel,
 * sockets and taps by host paths.
 */
public final class VmNamespaces implements VmProcess.NamespaceEntry {
    private static final Map<String, Integer> FLAGS = Map.of(
            "ipc", Libc.CLONE_NEWIPC, "uts", Libc.CLONE_NEWUTS, "network", Libc.CLONE_NEWNET);

    private record Join(Path path, int flag) {}

    private final List<Join> joins;
    private final int unshareFlags;

    private static final Path UNSHARE = Path.of("/usr/bin/unshare");

    private final boolean newPid;

    private VmNamespaces(List<Join> joins, int unshareFlags, boolean newPid) {
        this.joins = List.copyOf(joins);
        this.unshareFlags = unshareFlags;
        this.newPid = newPid;
    }

    /**
     * The VMM's namespaces for a spec; {@code network} overrides the spec's network entry (the namespace the
     * shim attached the VM's tap in, or created for docker).
     */
    public static VmNamespaces of(List<Bundle.Namespace> spec, Optional<Path> network) {
        List<Join> joins = new ArrayList<>();
        int unshare = 0;
        boolean newPid = false;
        for (Bundle.Namespace ns : spec) {
            if (ns.type().equals("pid")) {
                // a shared pid namespace (a path) is not joined: the VMM stays in the daemon's
                newPid |= ns.path().isEmpty() && java.nio.file.Files.isExecutable(UNSHARE);
                continue;
            }
            Integer flag = FLAGS.get(ns.type());
            if (flag == null || flag == Libc.CLONE_NEWNET) continue;
            if (ns.path().isPresent()) joins.add(new Join(ns.path().get(), flag));
            else unshare |= flag;
        }
        if (network.isPresent()) {
            joins.add(new Join(network.get(), Libc.CLONE_NEWNET));
        } else if (spec.stream().anyMatch(ns -> ns.type().equals("network") && ns.path().isEmpty())) {
            unshare |= Libc.CLONE_NEWNET; // a VM without NIC, cut off from the host's network too
        } else {
            spec.stream().filter(ns -> ns.type().equals("network")).findFirst()
                    .flatMap(Bundle.Namespace::path).ifPresent(p -> joins.add(new Join(p, Libc.CLONE_NEWNET)));
        }
        return new VmNamespaces(joins, unshare, newPid);
    }

    @Override
    public List<String> wrap(List<String> argv) {
        if (!newPid) return argv;
        List<String> wrapped = new ArrayList<>(List.of(UNSHARE.toString(), "--pid", "--fork", "--kill-child", "--"));
        wrapped.addAll(argv);
        return wrapped;
    }

    @Override
    public <T> T call(Callable<T> action) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().name("vmm-namespaces").start(() -> {
            try {
                for (Join j : joins) {
                    int fd = Libc.open(j.path().toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
                    try {
                        Libc.setns(fd, j.flag());
                    } finally {
                        Libc.close(fd);
                    }
                }
                if (unshareFlags != 0) Libc.unshare(unshareFlags);
                result.complete(action.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        t.join();
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) throw ex;
            throw new IOException(e.getCause());
        }
    }
}
