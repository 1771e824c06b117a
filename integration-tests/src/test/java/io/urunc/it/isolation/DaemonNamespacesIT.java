package io.urunc.it.isolation;

import io.urunc.it.cri.api.ContainerConfig;
import io.urunc.it.cri.api.ContainerState;
import io.urunc.it.cri.api.ContainerStatus;
import io.urunc.it.cri.api.NamespaceMode;
import io.urunc.it.cri.api.PodSandboxConfig;
import io.urunc.it.support.Cri;
import io.urunc.it.support.Guests;
import io.urunc.it.support.PlainImages;
import io.urunc.it.support.Processes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon serves every pod of the node from one JVM. Namespaces belong to threads, and a thread inherits its
 * creator's: if any daemon thread joined a pod's network namespace, threads the JDK creates from it (virtual
 * thread carriers, the process reaper) stay there and start later children (runc, hooks, VMMs) inside that pod.
 * After urunc pods came and went, every daemon thread must still be in the host's namespaces, and a hostNetwork
 * pod must get the host's network.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonNamespacesIT {
    private static final List<String> NAMESPACES = List.of("net", "ipc", "uts", "mnt");
    private Cri cri;

    @BeforeAll
    void start() throws Exception {
        cri = Cri.start();
        cri.importGuests("hello");
    }

    @AfterAll
    void stop() {
        if (cri != null) cri.close();
    }

    @Test
    void podChurnLeavesEveryDaemonThreadInTheHostNamespacesAndHostNetworkPodsOnTheHostNetwork() throws Exception {
        List<String> pods = new ArrayList<>();
        try {
            // unikernel pods: the shim attaches a tap in each pod's netns and runs the VMM there
            for (int i = 0; i < 2; i++) {
                PodSandboxConfig pod = cri.podConfig("ns-churn-" + i);
                String podId = cri.runPod(pod, Cri.URUNC);
                pods.add(podId);
                ContainerConfig hello = Cri.containerConfig("hello", Guests.HELLO, List.of());
                ContainerStatus done = cri.awaitState(cri.startContainer(podId, pod, hello), ContainerState.CONTAINER_EXITED,
                        Duration.ofSeconds(90));
                assertEquals(0, done.getExitCode(), done + cri.diagnostics());
            }
            cri.removePod(pods.removeFirst());

            // a hostNetwork pod on the same daemon: its runc containers must see the host's network
            PodSandboxConfig base = cri.podConfig("ns-hostnet");
            PodSandboxConfig hostNet = base.toBuilder().clearHostname().setLinux(base.getLinux().toBuilder().setSecurityContext(
                    base.getLinux().getSecurityContext().toBuilder().setNamespaceOptions(
                            base.getLinux().getSecurityContext().getNamespaceOptions().toBuilder().setNetwork(NamespaceMode.NODE))))
                    .build();
            String hostPod = cri.runPod(hostNet, Cri.URUNC);
            pods.add(hostPod);
            ContainerConfig probe = Cri.containerConfig("probe", PlainImages.BUSYBOX,
                    List.of("/bin/busybox", "readlink", "/proc/self/ns/net"));
            ContainerStatus probed = cri.awaitState(cri.startContainer(hostPod, hostNet, probe), ContainerState.CONTAINER_EXITED,
                    Duration.ofSeconds(30));
            assertEquals(0, probed.getExitCode(), probed.toString());
            String hostNetns = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
            String seen = Files.readString(Cri.logFile(hostNet, probe));
            assertTrue(seen.contains(hostNetns), "a hostNetwork container runs in the host's " + hostNetns + ": " + seen);

            List<ProcessHandle> daemons = Processes.matching("io.urunc.shim.Main").stream()
                    .filter(p -> Processes.cmdline(p.pid()).contains(cri.containerd().socket().toString()))
                    .filter(p -> Processes.cmdline(p.pid()).contains(" daemon")).toList();
            assertEquals(1, daemons.size(), "one daemon serves the k8s.io namespace: " + daemons);
            List<String> foreign = threadsOutsideHostNamespaces(daemons.getFirst().pid());
            assertTrue(foreign.isEmpty(), "daemon threads in a pod's namespaces:\n" + String.join("\n", foreign));
        } finally {
            for (String p : pods) cri.removePod(p);
        }
    }

    /** "tid name: net:[...]" for each thread of {@code pid} whose namespace differs from this (host) process's. */
    private static List<String> threadsOutsideHostNamespaces(long pid) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks.toList()) {
                for (String ns : NAMESPACES) {
                    try {
                        Path link = Files.readSymbolicLink(task.resolve("ns/" + ns));
                        if (!link.equals(Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)))) {
                            out.add(task.getFileName() + " " + Files.readString(task.resolve("comm")).strip() + ": " + link);
                        }
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // the thread ended while we looked
                    }
                }
            }
        }
        return out;
    }
}
