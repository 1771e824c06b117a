package io.urunc.vmm.types;

import io.urunc.vmm.GuestDeviceHints;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.UnikernelType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Hermit (hermit-rs): {@code [ip=<IP>/<prefix>] [gateway=<GW>] [-- <args>]}, modern-only virtio-net-pci. */
public final class HermitType implements UnikernelType {
    @Override public String name() { return "hermit"; }

    @Override public Set<String> hypervisors() { return Set.of("qemu"); }

    @Override public MachineKind preferredMachine() { return MachineKind.PC; }

    @Override
    public GuestDeviceHints deviceHints() {
        return new GuestDeviceHints(MachineKind.PC, Map.of("disable-legacy", "on"));
    }

    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor) {
        List<String> words = new ArrayList<>();
        guest.network().ifPresent(n -> {
            words.add("ip=" + n.ipv4() + "/" + n.prefixLength());
            if (n.gateway() != null) words.add("gateway=" + n.gateway());
        });
        if (!guest.args().isEmpty()) {
            if (!words.isEmpty()) words.add("--");
            for (int i = 0; i < guest.args().size(); i++) words.add(KernelArgs.quote(guest.args().get(i), "argument " + i));
        }
        return KernelArgs.checkLength(String.join(" ", words));
    }
}
