package io.urunc.vmm;

import java.util.Map;
import java.util.Objects;

/**
 * What a unikernel type needs from the VMM's device model beyond the command line: the QEMU machine, the Solo5
 * device names it looks for, and extra properties for QEMU's virtio NIC (e.g. modern-only virtio for mewz).
 */
public record GuestDeviceHints(MachineKind machine, String solo5NetName, String solo5BlockName, Map<String, String> nicProperties) {
    public static final GuestDeviceHints DEFAULT = new GuestDeviceHints(MachineKind.MICROVM, "service", "storage", Map.of());

    public GuestDeviceHints {
        Objects.requireNonNull(machine, "machine");
        Objects.requireNonNull(solo5NetName, "solo5NetName");
        Objects.requireNonNull(solo5BlockName, "solo5BlockName");
        nicProperties = Map.copyOf(nicProperties);
    }

    public GuestDeviceHints withMachine(MachineKind m) { return new GuestDeviceHints(m, solo5NetName, solo5BlockName, nicProperties); }
}
