package io.urunc.vmm;

import java.util.Map;
import java.util.Objects;

/**
 * What a unikernel type needs from the VMM's device model beyond the command line: the QEMU machine and extra
 * properties for QEMU's virtio NIC (e.g. modern-only virtio for mewz). Solo5 device names come from the
 * unikernel's own manifest instead.
 */
public record GuestDeviceHints(MachineKind machine, Map<String, String> nicProperties) {
    public static final GuestDeviceHints DEFAULT = new GuestDeviceHints(MachineKind.MICROVM, Map.of());

    public GuestDeviceHints {
        Objects.requireNonNull(machine, "machine");
        nicProperties = Map.copyOf(nicProperties);
    }

    public GuestDeviceHints withMachine(MachineKind m) { return new GuestDeviceHints(m, nicProperties); }
}
