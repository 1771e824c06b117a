package io.urunc.vmm.types;

import io.urunc.vmm.GuestDeviceHints;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.UnikernelType;

import java.util.Map;
import java.util.Set;

/**
 * Mewz (WebAssembly unikernel): only the network is configurable, {@code ip=<IP>/<prefix> gateway=<GW>}. It needs
 * a modern-only virtio-net-pci NIC; the adapter's -no-reboot and isa-debug-exit are what it expects to exit.
 */
public final class MewzType implements UnikernelType {
    @Override public String name() { return "mewz"; }

    @Override public Set<String> hypervisors() { return Set.of("qemu"); }

    @Override public MachineKind preferredMachine() { return MachineKind.PC; }

    @Override
    public GuestDeviceHints deviceHints() {
        return new GuestDeviceHints(MachineKind.PC, Map.of("disable-legacy", "on", "disable-modern", "off"));
    }

    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor) {
        return guest.network().map(n -> "ip=" + n.ipv4() + "/" + n.prefixLength() + " gateway=" + (n.gateway() == null ? "" : n.gateway()))
                .orElse("");
    }
}
