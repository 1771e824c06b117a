package io.urunc.network;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NetnsExecutorTest {

    @Test
    void childStartedInsideCallInLivesInTheTargetNetnsAndTheCallerStaysHome() throws Exception {
        try (TestNetns ns = TestNetns.loopbackOnly()) {
            String before = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
            long targetInode = (long) Files.getAttribute(ns.podPath(), "unix:ino");

            String childSees = NetnsExecutor.callIn(ns.podPath(), () -> {
                Process p = new ProcessBuilder("readlink", "/proc/self/ns/net").start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                assertEquals(0, p.waitFor());
                return out;
            });

            assertEquals("net:[" + targetInode + "]", childSees);
            assertNotEquals(before, childSees);
            assertEquals(before, Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
            assertEquals(before, Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(),
                    "the process's main thread is still in the original namespace");
        }
    }

    @Test
    void taskExceptionsPassThroughUnwrapped() {
        Path self = Path.of("/proc/self/ns/net");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NetnsExecutor.callIn(self, () -> { throw new IllegalStateException("boom"); }));
        assertEquals("boom", e.getMessage());
    }

    @Test
    void missingNamespaceIsAClearError() {
        NetworkException e = assertThrows(NetworkException.class,
                () -> NetnsExecutor.callIn(Path.of("/var/run/netns/does-not-exist-urjt"), () -> 1));
        assertTrue(e.getMessage().contains("/var/run/netns/does-not-exist-urjt"), e.getMessage());
    }

    @Test
    void aFileThatIsNotANamespaceIsRefused() throws Exception {
        Path file = Files.createTempFile("not-a-netns", "");
        try {
            NetworkException e = assertThrows(NetworkException.class, () -> NetnsExecutor.callIn(file, () -> 1));
            assertTrue(e.getMessage().contains("cannot join network namespace"), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void oneExecutorRunsManyTasksInTheSameNamespace() throws Exception {
        try (TestNetns ns = TestNetns.loopbackOnly(); NetnsExecutor ex = NetnsExecutor.open(ns.podPath())) {
            String a = ex.call(() -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
            String b = ex.call(() -> Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString());
            assertEquals("net:[" + Files.getAttribute(ns.podPath(), "unix:ino") + "]", a);
            assertEquals(a, b);
        }
    }
}
