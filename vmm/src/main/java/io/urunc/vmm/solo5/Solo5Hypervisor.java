package io.urunc.vmm.solo5;

import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.VmmException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Solo5 tenders: {@code solo5-hvt} (KVM) and {@code solo5-spt} (seccomp process):
 * {@code solo5-<t> --mem=<MB> [--net:<name>=<tap> --net-mac:<name>=<mac>] [--block:<name>=<path>]... <kernel> <cmdline>}.
 * Device names are the ones the unikernel was built with ({@link io.urunc.vmm.GuestDeviceHints}); with several
 * disks the first takes the hinted name and the others their own ids. Solo5 has no read-only disks, no initrd
 * and always sandboxes itself, so those settings are rejected or ignored as documented per method.
 */
public final class Solo5Hypervisor implements Hypervisor {
    private final String tender;

    private Solo5Hypervisor(String tender) { this.tender = tender; }

    public static Solo5Hypervisor hvt() { return new Solo5Hypervisor("hvt"); }

    public static Solo5Hypervisor spt() { return new Solo5Hypervisor("spt"); }

    @Override public String name() { return tender; }

    @Override public String defaultBinary() { return "solo5-" + tender; }

    /** Fails for an initrd (Solo5 cannot load one); read-only flags and seccomp=false are ignored (Solo5 has neither knob). */
    @Override
    public LaunchPlan plan(VmConfig c) throws VmmException {
        if (c.initrd().isPresent()) throw new VmmException("solo5-" + tender + " cannot load an initrd (" + c.initrd().get() + ")");
        List<String> a = new ArrayList<>();
        a.add(c.hypervisorBinary().toString());
        a.add("--mem=" + c.resources().memoryMb());
        String netName = c.hints().solo5NetName();
        c.net().ifPresent(n -> {
            a.add("--net:" + netName + "=" + n.tapName());
            a.add("--net-mac:" + netName + "=" + n.mac());
        });
        List<BlockDevice> blocks = c.blocks();
        for (int i = 0; i < blocks.size(); i++) {
            String name = i == 0 ? c.hints().solo5BlockName() : blocks.get(i).id();
            a.add("--block:" + name + "=" + blocks.get(i).path());
        }
        a.addAll(c.typeExtraArgs());
        a.add(c.kernel().toString());
        if (!c.kernelCmdline().isEmpty()) a.add(c.kernelCmdline());
        return new LaunchPlan(a, Map.of(), Optional.empty());
    }

    /** The tender exits with the unikernel's solo5_exit() status. */
    @Override public int containerExitCode(int vmmExitStatus) { return vmmExitStatus; }

    @Override public Optional<VmControl> control(LaunchPlan plan) { return Optional.empty(); }
}
