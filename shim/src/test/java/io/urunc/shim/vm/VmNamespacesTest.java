package io.urunc.shim.vm;

import io.urunc.shim.bundle.Bundle;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class VmNamespacesTest {
    private static final List<String> QEMU = List.of("/usr/bin/qemu-system-x86_64", "-S");

    @Test
    void aNewPidNamespaceStartsTheVmmAsItsPidOne() {
        VmNamespaces ns = VmNamespaces.of(List.of(new Bundle.Namespace("pid", Optional.empty()),
                new Bundle.Namespace("ipc", Optional.empty())), Optional.empty());
        assertEquals(List.of("/usr/bin/unshare", "--ipc", "--pid", "--fork", "--kill-child", "--",
                "/usr/bin/qemu-system-x86_64", "-S"), ns.wrap(QEMU));
    }

    @Test
    void joinedNamespacesAreEnteredAndMissingOnesCreatedByTheChildNeverByTheDaemon() {
        VmNamespaces ns = VmNamespaces.of(List.of(new Bundle.Namespace("pid", Optional.empty()),
                new Bundle.Namespace("ipc", Optional.of(Path.of("/proc/7/ns/ipc"))), new Bundle.Namespace("uts", Optional.empty()),
                new Bundle.Namespace("network", Optional.of(Path.of("/var/run/netns/spec")))), Optional.of(Path.of("/run/netns/pod")));
        assertEquals(List.of("/usr/bin/nsenter", "--ipc=/proc/7/ns/ipc", "--net=/run/netns/pod", "--",
                "/usr/bin/unshare", "--uts", "--pid", "--fork", "--kill-child", "--",
                "/usr/bin/qemu-system-x86_64", "-S"), ns.wrap(QEMU), "the shim's netns wins over the spec's");
    }

    @Test
    void aNewNetworkNamespaceWithoutAnInterfaceCutsTheVmOff() {
        VmNamespaces ns = VmNamespaces.of(List.of(new Bundle.Namespace("network", Optional.empty())), Optional.empty());
        assertEquals(List.of("/usr/bin/unshare", "--net", "--", "/usr/bin/qemu-system-x86_64", "-S"), ns.wrap(QEMU));
    }

    @Test
    void theWrappedCommandRunsInTheNamespacesWhileTheDaemonThreadStaysHome() throws Exception {
        VmNamespaces ns = VmNamespaces.of(List.of(new Bundle.Namespace("uts", Optional.empty()),
                new Bundle.Namespace("network", Optional.empty())), Optional.empty());
        Process p = new ProcessBuilder(ns.wrap(List.of("/bin/sh", "-c", "readlink /proc/self/ns/net /proc/self/ns/uts"))).start();
        List<String> seen = new String(p.getInputStream().readAllBytes()).lines().toList();
        assertEquals(0, p.waitFor());
        assertNotEquals(java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(), seen.get(0));
        assertNotEquals(java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/ns/uts")).toString(), seen.get(1));
        io.urunc.sys.HostNamespaces.requireOnHost("a test child");
    }

    @Test
    void aSharedPidNamespaceIsNotWrapped() {
        VmNamespaces ns = VmNamespaces.of(List.of(new Bundle.Namespace("pid", Optional.of(Path.of("/proc/1/ns/pid")))),
                Optional.empty());
        assertEquals(QEMU, ns.wrap(QEMU));
    }

    @Test
    void theVmmJoinsItsCgroupBeforeItRuns() throws Exception {
        assertEquals(QEMU, VmProcess.inCgroup(Optional.empty(), QEMU));
        // A real run of the shell step: it writes its own pid to each file, then execs the command.
        Path dir = java.nio.file.Files.createTempDirectory("cg");
        try {
            List<String> cmd = new java.util.ArrayList<>(List.of("/bin/sh", "-c", VmProcess.CGROUP_JOIN,
                    "cgroup-join", dir.resolve("a").toString(), dir.resolve("b").toString(), "--", "/bin/sh", "-c", "echo $$"));
            Process p = new ProcessBuilder(cmd).start();
            String execPid = new String(p.getInputStream().readAllBytes()).trim();
            assertEquals(0, p.waitFor());
            assertEquals(Long.toString(p.pid()), execPid, "exec keeps the pid");
            assertEquals(execPid, java.nio.file.Files.readString(dir.resolve("a")).trim());
            assertEquals(execPid, java.nio.file.Files.readString(dir.resolve("b")).trim());
        } finally {
            for (String f : new String[] {"a", "b"}) java.nio.file.Files.deleteIfExists(dir.resolve(f));
            java.nio.file.Files.delete(dir);
        }
    }
}
