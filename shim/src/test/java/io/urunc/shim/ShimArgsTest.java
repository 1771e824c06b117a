package io.urunc.shim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ShimArgsTest {
    @Test
    void parsesWhatContainerdPassesToStart() {
        ShimArgs a = ShimArgs.parse(new String[] {"-namespace", "default", "-address", "/run/containerd/containerd.sock",
                "-publish-binary", "/usr/bin/containerd", "-id", "t1", "-debug", "start"});
        assertEquals("default", a.namespace());
        assertEquals("/run/containerd/containerd.sock", a.address());
        assertEquals("/usr/bin/containerd", a.publishBinary());
        assertEquals("t1", a.id());
        assertTrue(a.debug());
        assertEquals("start", a.action());
    }

    @Test
    void acceptsEqualsFormDoubleDashAndUnknownFlags() {
        ShimArgs a = ShimArgs.parse(new String[] {"--namespace=k8s.io", "-id=abc", "-bundle", "/b",
                "-some-new-flag", "x", "delete"});
        assertEquals("k8s.io", a.namespace());
        assertEquals("abc", a.id());
        assertEquals("/b", a.bundle());
        assertEquals("delete", a.action());
        assertFalse(a.debug());
    }

    @Test
    void versionFlag() {
        assertTrue(ShimArgs.parse(new String[] {"-v"}).version());
        assertEquals("", ShimArgs.parse(new String[] {"-v"}).action());
    }
}
