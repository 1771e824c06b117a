package io.urunc.vmm;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class RegistriesTest {
    @Test
    void knownHypervisorsResolveAndUnknownOnesListTheChoices() throws Exception {
        assertTrue(Hypervisors.names().containsAll(Set.of("qemu", "firecracker", "cloud-hypervisor", "hvt", "spt")));
        for (String n : Hypervisors.names()) assertEquals(n, Hypervisors.byName(n).name());
        var e = assertThrows(VmmException.class, () -> Hypervisors.byName("xen"));
        assertTrue(e.getMessage().contains("'xen'") && e.getMessage().contains("qemu") && e.getMessage().contains("firecracker"), e.getMessage());
    }

    @Test
    void knownTypesResolveAndUnknownOnesListTheChoices() throws Exception {
        assertTrue(UnikernelTypes.names().contains("linux"));
        for (String n : UnikernelTypes.names()) {
            UnikernelType t = UnikernelTypes.byName(n);
            assertEquals(n, t.name());
            for (String hv : t.hypervisors()) assertTrue(Hypervisors.names().contains(hv), n + " names unknown hypervisor " + hv);
        }
        var e = assertThrows(VmmException.class, () -> UnikernelTypes.byName("osv"));
        assertTrue(e.getMessage().contains("'osv'") && e.getMessage().contains("linux"), e.getMessage());
    }

    @Test
    void aTypeOnTheWrongHypervisorIsRefusedClearly() throws Exception {
        var e = assertThrows(VmmException.class, () -> UnikernelTypes.byName("linux").requireHypervisor("hvt"));
        assertEquals("unikernel type 'linux' does not run on hypervisor 'hvt' (supported: cloud-hypervisor, firecracker, qemu)", e.getMessage());
    }
}
