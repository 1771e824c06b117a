package io.urunc.shim;

import io.urunc.shim.config.ShimConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class DaemonAddressTest {
    @Test
    void groupingDecidesWhichTasksShareADaemon() {
        Map<String, String> pod = Map.of(DaemonAddress.SANDBOX_ID, "sandbox1");
        assertEquals("", DaemonAddress.group(ShimConfig.Grouping.NAMESPACE, "c1", pod));
        assertEquals("sandbox1", DaemonAddress.group(ShimConfig.Grouping.POD, "c1", pod));
        assertEquals("c1", DaemonAddress.group(ShimConfig.Grouping.POD, "c1", Map.of()));
        assertEquals("c1", DaemonAddress.group(ShimConfig.Grouping.CONTAINER, "c1", pod));
    }

    @Test
    void socketPathFitsAndDiffersPerNamespaceAndContainerd() {
        DaemonAddress a = DaemonAddress.of("/run/containerd/containerd.sock", "default", "", Path.of("/run/urunc"));
        DaemonAddress b = DaemonAddress.of("/run/containerd/containerd.sock", "k8s.io", "", Path.of("/run/urunc"));
        DaemonAddress c = DaemonAddress.of("/tmp/other/containerd.sock", "default", "", Path.of("/run/urunc"));
        assertNotEquals(a.socket(), b.socket());
        assertNotEquals(a.socket(), c.socket());
        assertTrue(a.socket().toString().length() < 107, a.socket().toString());
        assertEquals("unix://" + a.socket(), a.uri());
    }

    @Test
    void shellLauncherComputesTheSameSocket() throws Exception {
        // The launcher answers `start` without a JVM; it must find the daemon the Java side created.
        Path launcher = Path.of("bin/containerd-shim-urunc-v2");
        assertTrue(Files.exists(launcher));
        String script = Files.readString(launcher);
        assertTrue(script.contains("printf 'urunc|%s|%s|%s' \"$addr\" \"$ns\" \"$group\" | sha256sum"), script);
        Process p = new ProcessBuilder("sh", "-c",
                "printf 'urunc|%s|%s|%s' /run/c.sock ns1 pod7 | sha256sum | cut -d' ' -f1").start();
        String hex = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor());
        assertEquals(DaemonAddress.of("/run/c.sock", "ns1", "pod7", Path.of("/x")).key(), hex);
    }
}
