package io.urunc.vmm.types;

import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.UnikernelType;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * MirageOS: {@code --ipv4=<IP>/<prefix> --ipv4-gateway=<GW> <args>}. On Solo5 its devices (usually "service"
 * and "storage") are named in its manifest.
 */
public final class MirageType implements UnikernelType {
    @Override public String name() { return "mirage"; }

    @Override public Set<String> hypervisors() { return Set.of("qemu", "hvt", "spt"); }

    @Override public MachineKind preferredMachine() { return MachineKind.PC; }

    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor) {
        List<String> words = new ArrayList<>();
        guest.network().ifPresent(n -> {
            words.add("--ipv4=" + n.ipv4() + "/" + n.prefixLength());
            if (n.gateway() != null) words.add("--ipv4-gateway=" + n.gateway());
        });
        for (int i = 0; i < guest.args().size(); i++) words.add(KernelArgs.quote(guest.args().get(i), "argument " + i));
        return KernelArgs.checkLength(String.join(" ", words));
    }
}
