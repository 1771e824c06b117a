package io.urunc.shim.netns;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskNetworkTest {
    @Test
    void onlyAPodsApplicationContainersShareTheNamespace() {
        assertTrue(TaskNetwork.inPod(Map.of("io.kubernetes.cri.container-type", "container",
                "io.kubernetes.cri.sandbox-id", "abc")), "containerd's CRI");
        assertTrue(TaskNetwork.inPod(Map.of("io.kubernetes.cri-o.ContainerType", "container")), "CRI-O");
        assertFalse(TaskNetwork.inPod(Map.of("io.kubernetes.cri.container-type", "sandbox")), "the pause container");
        assertFalse(TaskNetwork.inPod(Map.of()), "ctr run, docker run: the container has the namespace to itself");
    }
}
