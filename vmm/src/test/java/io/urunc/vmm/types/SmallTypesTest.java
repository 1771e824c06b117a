package io.urunc.vmm.types;

import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.RootKind;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** mirage, mewz and hermit: network options plus arguments. */
class SmallTypesTest {
    private static final Optional<GuestNetwork> NET = Optional.of(new GuestNetwork("10.0.0.2", 24, "10.0.0.1", "m", List.of()));

    private static GuestSpec spec(List<String> args, Optional<GuestNetwork> net) {
        return new GuestSpec(args, Map.of(), net, RootKind.NONE, null);
    }

    @Test
    void mirage() {
        MirageType m = new MirageType();
        assertEquals("--ipv4=10.0.0.2/24 --ipv4-gateway=10.0.0.1 \"--hello=a b\"", m.kernelCmdline(spec(List.of("--hello=a b"), NET), "hvt"));
        assertEquals("", m.kernelCmdline(spec(List.of(), Optional.empty()), "qemu"));
        assertEquals(java.util.Set.of("qemu", "hvt", "spt"), m.hypervisors());
    }

    @Test
    void mewz() {
        MewzType m = new MewzType();
        assertEquals("ip=10.0.0.2/24 gateway=10.0.0.1", m.kernelCmdline(spec(List.of("ignored"), NET), "qemu"));
        assertEquals("", m.kernelCmdline(spec(List.of(), Optional.empty()), "qemu"));
        assertEquals(MachineKind.PC, m.deviceHints().machine());
        assertEquals(Map.of("disable-legacy", "on", "disable-modern", "off"), m.deviceHints().nicProperties());
    }

    @Test
    void hermit() {
        HermitType h = new HermitType();
        assertEquals("ip=10.0.0.2/24 gateway=10.0.0.1 -- serve 8080", h.kernelCmdline(spec(List.of("serve", "8080"), NET), "qemu"));
        assertEquals("serve", h.kernelCmdline(spec(List.of("serve"), Optional.empty()), "qemu"));
        assertEquals("ip=10.0.0.2/24 gateway=10.0.0.1", h.kernelCmdline(spec(List.of(), NET), "qemu"));
        assertEquals(Map.of("disable-legacy", "on"), h.deviceHints().nicProperties());
    }
}
