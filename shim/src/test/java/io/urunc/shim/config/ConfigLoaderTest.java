package io.urunc.shim.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ConfigLoaderTest {
    @Test
    void noFileMeansDefaults() throws Exception {
        ShimConfig c = ConfigLoader.load(Map.of("URUNC_CONFIG_FILE", ""));
        // /etc/urunc/config.toml may exist on a dev box; defaults() is what an absent file gives
        assertNotNull(c);
        ShimConfig d = ShimConfig.defaults();
        assertEquals(ShimConfig.Grouping.NAMESPACE, d.grouping());
        assertEquals(256, d.monitor("qemu").defaultMemoryMb());
        assertEquals("auto", d.monitor("qemu").accelerator());
    }

    @Test
    void readsUruncStyleMonitorsAndOurKeys() throws Exception {
        ShimConfig c = ConfigLoader.parse("""
                [log]
                level = "debug"
                [shim]
                grouping = "pod"
                idle_exit_seconds = 0.5
                idle_release_seconds = 0
                kill_grace_seconds = 2
                [monitors.qemu]
                path = "/opt/qemu/bin/qemu-system-x86_64"
                default_memory_mb = 512
                default_vcpus = 2
                accelerator = "tcg"
                [timestamps]
                enabled = false
                """, "test.toml");
        assertEquals(ShimConfig.Grouping.POD, c.grouping());
        assertEquals("debug", c.logLevel());
        assertEquals(Duration.ofMillis(500), c.idleExit());
        assertEquals(Duration.ZERO, c.idleRelease(), "0: an idle daemon keeps its pages");
        assertEquals(Duration.ofSeconds(10), ConfigLoader.parse("", "empty.toml").idleRelease());
        assertEquals(Duration.ofSeconds(2), c.killGrace());
        MonitorConfig q = c.monitor("qemu");
        assertEquals("/opt/qemu/bin/qemu-system-x86_64", q.path().orElseThrow());
        assertEquals(512, q.defaultMemoryMb());
        assertEquals(2, q.defaultVcpus());
        assertEquals("tcg", q.accelerator());
        assertEquals(256, c.monitor("firecracker").defaultMemoryMb());
    }

    @Test
    void badValuesAreNamed() {
        var e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("[monitors.qemu]\naccelerator = \"hvf\"\n", "c.toml"));
        assertTrue(e.getMessage().contains("monitors.qemu.accelerator"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("[shim]\ngrouping = \"node\"\n", "c.toml"));
        assertTrue(e.getMessage().contains("shim.grouping"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("[shim\n", "c.toml"));
        assertTrue(e.getMessage().contains("not valid TOML"), e.getMessage());
    }

    @Test
    void explicitMissingFileIsAnError(@TempDir Path dir) {
        var e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(Map.of("URUNC_CONFIG_FILE", dir.resolve("nope.toml").toString())));
        assertTrue(e.getMessage().contains("nope.toml"));
    }

    @Test
    void fileIsRead(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.toml");
        Files.writeString(f, "[shim]\ngrouping = \"container\"\n");
        assertEquals(ShimConfig.Grouping.CONTAINER, ConfigLoader.load(Map.of("URUNC_CONFIG_FILE", f.toString())).grouping());
    }

    @Test
    void theVmmDropsPrivilegesByDefaultAndItsIdBaseIsChecked() throws Exception {
        MonitorConfig d = ConfigLoader.parse("", "c.toml").monitor("qemu");
        assertTrue(d.dropPrivileges());
        assertEquals(io.urunc.vmm.VmmUser.DEFAULT_BASE, d.vmmIdBase());
        MonitorConfig off = ConfigLoader.parse("[monitors.qemu]\ndrop_privileges = false\nvmm_id_base = 300000\n", "c.toml").monitor("qemu");
        assertFalse(off.dropPrivileges());
        assertEquals(300000, off.vmmIdBase());
        var e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("[monitors.qemu]\nvmm_id_base = 0\n", "c.toml"));
        assertTrue(e.getMessage().contains("monitors.qemu.vmm_id_base must be"), e.getMessage());
    }

    @Test
    void everyTomlSpellingOfATableReadsTheSame() throws Exception {
        String[] spellings = {
                "shim.grouping = \"pod\"\nshim.idle_exit_seconds = 7\nmonitors.qemu = { default_vcpus = 3, seccomp = false }\n",
                "[shim]\n\"grouping\" = 'pod'\nidle_exit_seconds = 7.0\n[monitors]\nqemu.default_vcpus = 3\nqemu.seccomp = false\n",
                "# urunc's own keys around ours\nlist = [1, [2, \"x\"], {a = 1}]\nwhen = 1979-05-27T07:32:00Z\n"
                        + "[shim]\ngrouping = \"pod\"\nidle_exit_seconds = 7\n[monitors.qemu]\ndefault_vcpus = 0x3\nseccomp = false\n"
                        + "[[hooks]]\nname = \"a\"\n[[hooks]]\nname = \"b\"\n",
        };
        for (String toml : spellings) {
            ShimConfig c = ConfigLoader.parse(toml, "c.toml");
            assertEquals(ShimConfig.Grouping.POD, c.grouping(), toml);
            assertEquals(Duration.ofSeconds(7), c.idleExit(), toml);
            assertEquals(3, c.monitor("qemu").defaultVcpus(), toml);
            assertFalse(c.monitor("qemu").seccomp(), toml);
        }
        assertEquals(ShimConfig.defaults().grouping(), ConfigLoader.parse("# nothing but a comment\n", "c.toml").grouping());
    }
}
