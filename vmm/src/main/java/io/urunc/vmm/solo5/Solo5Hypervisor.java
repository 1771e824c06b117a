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
 * The device names are the ones the unikernel declares in its manifest ({@link Solo5Manifest}), read from the
 * kernel: the tenders refuse an undeclared device and a declared one left unattached. The task's tap goes to the
 * first NET_BASIC device, block devices to BLOCK_BASIC devices of their own id, else in order. Solo5 has no
 * read-only disks, no initrd and always sandboxes itself, so those settings are rejected or ignored as documented.
 */
public final class Solo5Hypervisor implements Hypervisor {
    private final String tender;

    private Solo5Hypervisor(String tender) { this.tender = tender; }

    public static Solo5Hypervisor hvt() { return new Solo5Hypervisor("hvt"); }

    public static Solo5Hypervisor spt() { return new Solo5Hypervisor("spt"); }

    @Override public String name() { return tender; }

    @Override public String defaultBinary() { return "solo5-" + tender; }

    /**
     * Fails for an initrd (Solo5 cannot load one) and for a declared device the task cannot attach, naming it;
     * a network or disk the unikernel does not declare is left out. Read-only flags and seccomp=false are ignored
     * (Solo5 has neither knob).
     */
    @Override
    public LaunchPlan plan(VmConfig c) throws VmmException {
        if (!c.sharedDirs().isEmpty())
            throw new VmmException("solo5-" + tender + " has no shared file system device: the directory volume shared as '"
                    + c.sharedDirs().getFirst().tag() + "' cannot be passed to the guest");
        if (c.initrd().isPresent()) throw new VmmException("solo5-" + tender + " cannot load an initrd (" + c.initrd().get() + ")");
        Solo5Manifest manifest = Solo5Manifest.read(c.kernel());
        List<String> a = new ArrayList<>();
        a.add(c.hypervisorBinary().toString());
        a.add("--mem=" + c.resources().memoryMb());
        a.addAll(netArgs(manifest.devices(Solo5Manifest.Kind.NET_BASIC), c));
        a.addAll(blockArgs(manifest.devices(Solo5Manifest.Kind.BLOCK_BASIC), c.blocks()));
        a.addAll(c.typeExtraArgs());
        a.add(c.kernel().toString());
        if (!c.kernelCmdline().isEmpty()) a.add(c.kernelCmdline());
        return new LaunchPlan(a, Map.of(), Optional.empty());
    }

    private static List<String> netArgs(List<Solo5Manifest.Device> declared, VmConfig c) throws VmmException {
        if (declared.isEmpty()) return List.of();
        String first = declared.getFirst().name();
        if (c.net().isEmpty())
            throw new VmmException("the unikernel declares network device '" + first + "' but the container has no network interface to attach to it");
        if (declared.size() > 1)
            throw new VmmException("the unikernel declares " + declared.size() + " network devices (" + names(declared)
                    + "); a task has one network interface, for '" + first + "', so '" + declared.get(1).name() + "' cannot be attached");
        return List.of("--net:" + first + "=" + c.net().get().tapName(), "--net-mac:" + first + "=" + c.net().get().mac());
    }

    /** Each declared disk gets the block device of its own name, else the next unclaimed one. */
    private static List<String> blockArgs(List<Solo5Manifest.Device> declared, List<BlockDevice> given) throws VmmException {
        List<BlockDevice> unclaimed = new ArrayList<>(given);
        List<String> a = new ArrayList<>();
        for (Solo5Manifest.Device d : declared) {
            BlockDevice b = unclaimed.stream().filter(x -> x.id().equals(d.name())).findFirst()
                    .or(() -> unclaimed.stream().filter(x -> declared.stream().noneMatch(o -> o.name().equals(x.id()))).findFirst())
                    .orElseThrow(() -> new VmmException("the unikernel declares block device '" + d.name()
                            + "' but the container has no disk for it (" + given.size() + " given for " + declared.size() + " declared: " + names(declared) + ")"));
            unclaimed.remove(b);
            a.add("--block:" + d.name() + "=" + b.pathForVmm());
        }
        return a;
    }

    private static String names(List<Solo5Manifest.Device> devices) {
        return String.join(", ", devices.stream().map(d -> "'" + d.name() + "'").toList());
    }

    /** The tender exits with the unikernel's solo5_exit() status. */
    @Override public int containerExitCode(int vmmExitStatus) { return vmmExitStatus; }

    @Override public Optional<VmControl> control(LaunchPlan plan) { return Optional.empty(); }
}
