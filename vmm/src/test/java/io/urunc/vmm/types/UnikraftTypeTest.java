package io.urunc.vmm.types;

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

class UnikraftTypeTest {
    private final UnikraftType unikraft = new UnikraftType();
    private static final GuestNetwork NET = new GuestNetwork("10.0.0.2", 24, "10.0.0.1", "02:00:00:00:00:01", List.of());

    private static GuestSpec spec(RootKind root, String version) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("A", "1");
        env.put("B", "two words");
        return new GuestSpec(List.of("/nginx", "-c", "/nginx/conf/nginx.conf"), env, Optional.of(NET), root, version);
    }

    @Test
    void newStyleFrom0161WithEnvNetAndInitrdFstab() {
        assertEquals("Unikraft env.vars=[ A=1 B=\"two words\" ] netdev.ip=10.0.0.2/24:10.0.0.1:8.8.8.8 vfs.fstab=[ \"initrd0:/:extract:::\" ] -- /nginx -c /nginx/conf/nginx.conf",
                unikraft.kernelCmdline(spec(RootKind.INITRD, "0.16.1"), "qemu"));
        assertTrue(unikraft.kernelCmdline(spec(RootKind.SHARED_9P, "0.17.0"), "qemu").contains(" vfs.fstab=[ \"fs0:/:9pfs:::\" ] -- "));
    }

    @Test
    void olderVersionsGetCompatArgumentsAndNoEnvironment() {
        assertEquals("Unikraft netdev.ipv4_addr=10.0.0.2 netdev.ipv4_gw_addr=10.0.0.1 netdev.ipv4_subnet_mask=255.255.255.0 vfs.rootfs=initrd -- /nginx -c /nginx/conf/nginx.conf",
                unikraft.kernelCmdline(spec(RootKind.INITRD, "0.15.0"), "qemu"));
    }

    @Test
    void versionParsingDefaultsToNewStyle() {
        assertTrue(UnikraftType.newStyle(null));
        assertTrue(UnikraftType.newStyle("garbage"));
        assertTrue(UnikraftType.newStyle("v0.16.1"));
        assertTrue(UnikraftType.newStyle("0.18"));
        assertTrue(UnikraftType.newStyle("1.0.0-rc1"));
        assertFalse(UnikraftType.newStyle("0.16.0"));
        assertFalse(UnikraftType.newStyle("0.9"));
    }

    @Test
    void withoutNetworkNoNetdevAndDnsFromTheGuestNetworkWhenGiven() {
        var noNet = new GuestSpec(List.of("/app"), Map.of(), Optional.empty(), RootKind.NONE, null);
        assertEquals("Unikraft -- /app", unikraft.kernelCmdline(noNet, "firecracker"));
        var dns = new GuestSpec(List.of(), Map.of(), Optional.of(new GuestNetwork("10.1.1.2", 16, "10.1.0.1", "m", List.of("1.1.1.1"))), RootKind.NONE, null);
        assertEquals("Unikraft netdev.ip=10.1.1.2/16:10.1.0.1:1.1.1.1 --", unikraft.kernelCmdline(dns, "qemu"));
    }

    @Test
    void blockRootIsRejected() {
        assertThrows(InvalidGuestSpecException.class, () -> unikraft.kernelCmdline(spec(RootKind.BLOCK, null), "qemu"));
    }
}
