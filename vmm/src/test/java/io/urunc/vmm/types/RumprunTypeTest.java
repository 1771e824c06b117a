package io.urunc.vmm.types;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.InvalidGuestSpecException;
import io.urunc.vmm.RootKind;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class RumprunTypeTest {
    private final RumprunType rumprun = new RumprunType();

    @Test
    void configCarriesCmdlineRepeatedEnvNetAndBlock() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HOME", "/");
        env.put("Q", "say \"hi\" & <go>");
        var spec = new GuestSpec(List.of("redis-server", "/data/conf/redis.conf"), env,
                Optional.of(new GuestNetwork("10.0.0.2", 24, "10.0.0.1", "m", List.of())), RootKind.BLOCK, null);
        assertEquals("{\"cmdline\":\"redis-server /data/conf/redis.conf\",\"env\":\"HOME=/\",\"env\":\"Q=say \\\"hi\\\" & <go>\","
                + "\"net\":{\"if\":\"ukvmif0\",\"cloner\":\"True\",\"type\":\"inet\",\"method\":\"static\",\"addr\":\"10.0.0.2\",\"mask\":\"1\",\"gw\":\"10.0.0.1\"},"
                + "\"blk\":{\"source\":\"etfs\",\"path\":\"/dev/ld0a\",\"fstype\":\"blk\",\"mountpoint\":\"/data\"}}",
                rumprun.kernelCmdline(spec, "hvt"));
    }

    @Test
    void minimalConfigIsValidJson() throws Exception {
        String s = rumprun.kernelCmdline(new GuestSpec(List.of("hello"), Map.of(), Optional.empty(), RootKind.NONE, null), "spt");
        assertEquals("hello", new ObjectMapper().readTree(s).get("cmdline").asText());
        assertEquals(1, new ObjectMapper().readTree(s).size());
    }

    @Test
    void rootRestrictions() {
        assertThrows(InvalidGuestSpecException.class,
                () -> rumprun.kernelCmdline(new GuestSpec(List.of("x"), Map.of(), Optional.empty(), RootKind.INITRD, null), "hvt"));
    }

    /** The image's block file at its blkMntPoint, as urunc passes it: the etfs disk mounted there. */
    @Test
    void aDiskMountedElsewhereIsTheEtfsDiskAtThatMountPointAndOnlyOneFits() throws Exception {
        var disk = new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.BLOCK, "blk0", "/srv/www", false);
        String s = rumprun.kernelCmdline(new GuestSpec(List.of("nginx"), Map.of(), Optional.empty(), RootKind.NONE, null, List.of(disk)), "hvt");
        assertEquals("/srv/www", new ObjectMapper().readTree(s).path("blk").path("mountpoint").asText(), s);
        assertThrows(InvalidGuestSpecException.class, () -> rumprun.kernelCmdline(
                new GuestSpec(List.of("nginx"), Map.of(), Optional.empty(), RootKind.BLOCK, null, List.of(disk)), "hvt"));
        var share = new io.urunc.vmm.GuestMount(io.urunc.vmm.GuestMount.Kind.VIRTIOFS, "vol0", "/data", false);
        assertThrows(InvalidGuestSpecException.class, () -> rumprun.kernelCmdline(
                new GuestSpec(List.of("nginx"), Map.of(), Optional.empty(), RootKind.NONE, null, List.of(share)), "hvt"));
        assertTrue(rumprun.mounts(io.urunc.vmm.GuestMount.Kind.BLOCK) && !rumprun.mounts(io.urunc.vmm.GuestMount.Kind.VIRTIOFS));
    }
}
