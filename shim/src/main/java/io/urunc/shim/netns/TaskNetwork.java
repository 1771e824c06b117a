package io.urunc.shim.netns;

import io.urunc.network.AttachOptions;
import io.urunc.network.GuestPort;
import io.urunc.network.NetworkAttachment;
import io.urunc.network.NetworkException;
import io.urunc.network.UnikernelNetwork;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.task.Cleanup;
import io.urunc.storage.RootfsPaths;
import io.urunc.sys.HostNamespaces;
import io.urunc.sys.NamespaceCommands;
import io.urunc.ttrpc.TtrpcException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A unikernel task's network: the namespace it lives in and the tap that connects the VM there. */
public final class TaskNetwork {
    /** The namespace the VMM runs in (if any), whether the shim created it, and what the VM got there. */
    public record Setup(Optional<Path> netns, boolean ownNetns, Optional<NetworkAttachment> attachment) {}

    private TaskNetwork() {}

    /**
     * The spec's network namespace, or one the shim creates when the spec asks for a new one and has hooks
     * to set it up ({@code ownNetnsFile}); then the VM's tap in it. Everything is registered in {@code cleanup}.
     */
    public static Setup prepare(Bundle bundle, Path rootfs, String id, List<GuestPort> ports, Path ownNetnsFile,
                                Cleanup cleanup) throws TtrpcException {
        Optional<Path> netns = bundle.networkNamespace();
        boolean own = false;
        if (netns.isEmpty() && bundle.newNetworkNamespace() && !bundle.prestartHooks().isEmpty()) {
            netns = Optional.of(createWithHooks(bundle, id, ownNetnsFile, cleanup));
            own = true;
        }
        return new Setup(netns, own, attach(netns, bundle, rootfs, id, ports, cleanup));
    }

    /** containerd's CRI (and CRI-O) mark a pod's application containers; the pod's netns is shared with them. */
    static boolean inPod(Map<String, String> annotations) {
        return "container".equals(annotations.get("io.kubernetes.cri.container-type"))
                || "container".equals(annotations.get("io.kubernetes.cri-o.ContainerType"));
    }

    /**
     * With a network namespace path in the spec (docker, ctr --with-ns), the VM takes over the container's
     * interface through a tap; in a pod's namespace (CRI) it is routed beside the pod's other containers; without
     * one the VM has no NIC, like a container with only lo.
     */
    private static Optional<NetworkAttachment> attach(Optional<Path> netnsPath, Bundle bundle, Path rootfs,
                                                      String id, List<GuestPort> ports, Cleanup cleanup)
            throws TtrpcException {
        if (netnsPath.isEmpty()) return Optional.empty();
        Path netns = netnsPath.get();
        AttachOptions options = AttachOptions.defaults();
        if (inPod(bundle.annotations())) options = options.inPod(ports);
        Optional<Path> resolvConf = bundle.resolvConfMount().or(() -> {
            try {
                return Optional.of(RootfsPaths.resolveRegularFile(rootfs, "/etc/resolv.conf"));
            } catch (IOException e) {
                return Optional.empty();
            }
        });
        if (resolvConf.isPresent()) options = options.withResolvConf(resolvConf.get());
        try {
            NetworkAttachment a = UnikernelNetwork.attach(netns, id, options);
            cleanup.push("network " + a.mode() + " " + a.tapName(), () -> UnikernelNetwork.detach(a));
            return Optional.of(a);
        } catch (NetworkException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": network: " + e.getMessage());
        }
    }
    /**
     * A spec that asks for a new network namespace and has hooks to set it up (docker's libnetwork-setkey
     * moves the container's veth in and configures it): create the namespace as runc would, run the hooks
     * with a process inside it as the state's pid, then the VM takes over what the hooks configured.
     */
    private static Path createWithHooks(Bundle bundle, String id, Path file, Cleanup cleanup) throws TtrpcException {
        try {
            OwnNetworkNamespace.create(file);
        } catch (IOException e) {
            throw TtrpcException.internal("task " + id + ": " + e.getMessage());
        }
        cleanup.push("network namespace " + file, () -> OwnNetworkNamespace.remove(file));
        Process holder = null;
        try {
            HostNamespaces.requireOnHost("the network namespace holder");
            holder = new ProcessBuilder(NamespaceCommands.inNetwork(file, List.of("sleep", "300")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
            OciHooks.run(bundle.prestartHooks(), OciHooks.state(id, holder.pid(), bundle.dir(), bundle.annotations()));
        } catch (Exception e) {
            throw TtrpcException.failedPrecondition("task " + id + ": " + e.getMessage());
        } finally {
            if (holder != null) holder.destroyForcibly();
        }
        return file;
    }
}
