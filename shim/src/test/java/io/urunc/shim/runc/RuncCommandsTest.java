package io.urunc.shim.runc;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class RuncCommandsTest {
    private static final List<String> GLOBAL = List.of("/usr/sbin/runc", "--root", "/run/urunc/runc/k8s.io",
            "--log", "/b/log.json", "--log-format", "json");
    private final RuncCommands runc = new RuncCommands(Path.of("/usr/sbin/runc"),
            RuncCommands.rootFor(Path.of("/run/urunc"), "k8s.io"), Path.of("/b"), false);

    private static List<String> global(String... rest) {
        List<String> l = new java.util.ArrayList<>(GLOBAL);
        l.addAll(List.of(rest));
        return l;
    }

    @Test
    void createNamesBundlePidFileAndOptionallyTheConsoleSocket() {
        assertEquals(global("create", "--bundle", "/b", "--pid-file", "/b/init.pid", "c1"),
                runc.create("c1", Optional.empty()));
        assertEquals(global("create", "--bundle", "/b", "--pid-file", "/b/init.pid", "--console-socket", "/s/c.sock", "c1"),
                runc.create("c1", Optional.of(Path.of("/s/c.sock"))));
    }

    @Test
    void execDetachesWithTheProcessSpecAPidFileAndOptionallyTheConsoleSocket() {
        assertEquals(global("exec", "--process", "/r/x1.json", "--detach", "--pid-file", "/r/x1.pid", "c1"),
                runc.exec("c1", Path.of("/r/x1.json"), Path.of("/r/x1.pid"), Optional.empty()));
        assertEquals(global("exec", "--process", "/r/x1.json", "--detach", "--pid-file", "/r/x1.pid",
                "--console-socket", "/r/x1.sock", "c1"),
                runc.exec("c1", Path.of("/r/x1.json"), Path.of("/r/x1.pid"), Optional.of(Path.of("/r/x1.sock"))));
    }

    @Test
    void lifecycleCommands() {
        assertEquals(global("start", "c1"), runc.start("c1"));
        assertEquals(global("kill", "c1", "15"), runc.kill("c1", 15, false));
        assertEquals(global("kill", "--all", "c1", "9"), runc.kill("c1", 9, true));
        assertEquals(global("delete", "--force", "c1"), runc.delete("c1", true));
        assertEquals(global("delete", "c1"), runc.delete("c1", false));
        assertEquals(global("ps", "--format", "json", "c1"), runc.ps("c1"));
        assertEquals(global("pause", "c1"), runc.pause("c1"));
        assertEquals(global("resume", "c1"), runc.resume("c1"));
    }

    @Test
    void systemdCgroupPathsSelectTheSystemdDriver() {
        assertTrue(RuncCommands.isSystemdCgroupsPath("kubepods-besteffort.slice:cri-containerd:abc"));
        assertFalse(RuncCommands.isSystemdCgroupsPath("/kubepods/besteffort/pod1/abc"));
        assertFalse(RuncCommands.isSystemdCgroupsPath("default/c1"));
        RuncCommands systemd = new RuncCommands(Path.of("/usr/sbin/runc"), Path.of("/r"), Path.of("/b"), true);
        assertEquals(List.of("/usr/sbin/runc", "--root", "/r", "--log", "/b/log.json", "--log-format", "json",
                "--systemd-cgroup", "start", "c1"), systemd.start("c1"));
    }

    @Test
    void theActionWordIsFoundAfterTheGlobalOptions() {
        assertEquals("kill", Runc.action(runc.kill("c1", 9, true)));
        assertEquals("create", Runc.action(runc.create("c1", Optional.empty())));
    }
}
