package io.urunc.shim.bundle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class BundleTest {
    @Test
    void readsWhatTheShimNeeds(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), """
                {"ociVersion":"1.0.2","process":{"terminal":true,"args":["/init","a b"],"env":["PATH=/bin","X=1"]},
                 "root":{"path":"rootfs"},
                 "annotations":{"com.urunc.unikernel.hypervisor":"qemu"},
                 "linux":{"resources":{"memory":{"limit":268435456},"cpu":{"quota":150000,"period":100000}},
                          "cgroupsPath":"/default/t1",
                          "namespaces":[{"type":"pid"},{"type":"network","path":"/var/run/netns/x"}]}}
                """);
        Bundle b = Bundle.load(dir);
        assertEquals(java.util.List.of("/init", "a b"), b.args());
        assertTrue(b.terminal());
        assertEquals("qemu", b.annotations().get("com.urunc.unikernel.hypervisor"));
        assertEquals(268435456L, b.memoryLimitBytes().orElseThrow());
        assertEquals(1.5, b.cpus().orElseThrow(), 1e-9);
        assertEquals(Path.of("/var/run/netns/x"), b.networkNamespace().orElseThrow());
        assertEquals("/default/t1", b.cgroupsPath().orElseThrow());
        assertEquals(dir.resolve("rootfs"), b.rootfs());
        assertEquals("1", b.envValue("X").orElseThrow());
    }

    @Test
    void badConfigsAreNamed(@TempDir Path dir) throws Exception {
        var e = assertThrows(BundleException.class, () -> Bundle.load(dir));
        assertTrue(e.getMessage().contains("config.json: no such file"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{not json");
        e = assertThrows(BundleException.class, () -> Bundle.load(dir));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"process\":{\"args\":\"/bin/sh\"}}");
        e = assertThrows(BundleException.class, () -> Bundle.load(dir));
        assertTrue(e.getMessage().contains("process.args"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{\"annotations\":{\"k\":1}}");
        e = assertThrows(BundleException.class, () -> Bundle.load(dir));
        assertTrue(e.getMessage().contains("annotations.k"), e.getMessage());
    }

    @Test
    void noNetworkNamespacePathMeansNone(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}}");
        assertTrue(Bundle.load(dir).networkNamespace().isEmpty());
        assertTrue(Bundle.load(dir).memoryLimitBytes().isEmpty());
    }

    @Test
    void theWarmUpsSampleSpecIsOneTheReaderAccepts() {
        // the daemon's warm-up reads it: a sample the reader refused would only show as a warm-up failure in a log
        assertDoesNotThrow(Bundle::prepareReader);
    }
}
