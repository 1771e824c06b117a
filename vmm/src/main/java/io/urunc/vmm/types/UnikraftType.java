package io.urunc.vmm.types;

import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.InvalidGuestSpecException;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.UnikernelType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Unikraft (uklibparam syntax). From 0.16.1 (and when the version is unknown):
 * {@code Unikraft [env.vars=[ K=V ... ]] [netdev.ip=<IP>/<prefix>:<GW>:<DNS>] [vfs.fstab=[ "..." ]] -- <args>};
 * older: {@code netdev.ipv4_addr= netdev.ipv4_gw_addr= netdev.ipv4_subnet_mask= [vfs.rootfs=initrd]}, no environment.
 */
public final class UnikraftType implements UnikernelType {
    static final int[] NEW_STYLE_SINCE = {0, 16, 1};
    private static final String DEFAULT_DNS = "8.8.8.8";

    @Override public String name() { return "unikraft"; }

    @Override public Set<String> hypervisors() { return Set.of("qemu", "firecracker"); }

    @Override public MachineKind preferredMachine() { return MachineKind.PC; }

    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor) {
        if (guest.root() == RootKind.BLOCK || guest.root() == RootKind.VIRTIOFS)
            throw new InvalidGuestSpecException("unikraft guests take their root from an initrd or 9p, not " + guest.root());
        boolean newStyle = newStyle(guest.unikernelVersion());
        List<String> words = new ArrayList<>(List.of("Unikraft"));
        if (newStyle) {
            if (!guest.env().isEmpty()) {
                List<String> vars = new ArrayList<>();
                for (Map.Entry<String, String> e : guest.env().entrySet()) vars.add(KernelArgs.envAssignment(e.getKey(), e.getValue()));
                words.add("env.vars=[ " + String.join(" ", vars) + " ]");
            }
            guest.network().ifPresent(n -> words.add("netdev.ip=" + n.ipv4() + "/" + n.prefixLength() + ":" + gateway(n) + ":"
                    + (n.dns().isEmpty() ? DEFAULT_DNS : n.dns().getFirst())));
            switch (guest.root()) {
                case INITRD -> words.add("vfs.fstab=[ \"initrd0:/:extract:::\" ]");
                case SHARED_9P -> words.add("vfs.fstab=[ \"fs0:/:9pfs:::\" ]");
                default -> { }
            }
        } else {
            guest.network().ifPresent(n -> words.addAll(List.of("netdev.ipv4_addr=" + n.ipv4(), "netdev.ipv4_gw_addr=" + gateway(n),
                    "netdev.ipv4_subnet_mask=" + n.netmask())));
            if (guest.root() == RootKind.INITRD) words.add("vfs.rootfs=initrd");
        }
        words.add("--");
        for (int i = 0; i < guest.args().size(); i++) words.add(KernelArgs.quote(guest.args().get(i), "argument " + i));
        return KernelArgs.checkLength(String.join(" ", words));
    }

    private static String gateway(GuestNetwork n) { return n.gateway() == null ? "" : n.gateway(); }

    /** New-style arguments from 0.16.1 on; an absent or unparsable version also gets them (as urunc does). */
    static boolean newStyle(String version) {
        if (version == null || version.isBlank()) return true;
        String[] parts = version.strip().replaceFirst("^v", "").split("[.]");
        int[] v = new int[3];
        try {
            for (int i = 0; i < Math.min(3, parts.length); i++) v[i] = Integer.parseInt(parts[i].replaceFirst("[^0-9].*$", ""));
        } catch (NumberFormatException e) {
            return true;
        }
        return java.util.Arrays.compare(v, NEW_STYLE_SINCE) >= 0;
    }
}
