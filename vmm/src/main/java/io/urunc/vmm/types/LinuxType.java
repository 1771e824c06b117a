package io.urunc.vmm.types;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.GuestMount;
import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.HostClock;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.InvalidGuestSpecException;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.UnikernelType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Linux kernel with the application as init: {@code console=ttyS0 panic=-1 <root> [ip=...] [ENV=...]
 * [rd]init=<args[0]> -- <args[1..]>}. The kernel passes unrecognised {@code K=V} words to init as environment
 * and the words after {@code --} as its arguments. Network uses the kernel's {@code ip=} syntax
 * (client::gateway:netmask:hostname:device:off[:dns0[:dns1]]); kernels without IP autoconfiguration hand it
 * to init as the variable {@code ip}. Each file system of {@link GuestSpec#mounts()} is one word
 * {@code urunc.mount=<virtiofs|blk>:<tag or disk serial>:<ro|rw>:<target>} for the guest's init (a name with a dot
 * is a module parameter to the kernel: it neither complains nor passes it to init as a variable); the target is
 * the rest of the word, quoted when it has spaces.
 */
public final class LinuxType implements UnikernelType {
    /** Kernel limits (MAX_INIT_ARGS / MAX_INIT_ENVS = 32, minus the kernel's own "init", HOME and TERM). */
    static final int MAX_INIT_ARGS = 31;
    static final int MAX_INIT_ENVS = 30;

    @Override public String name() { return "linux"; }

    @Override public Set<String> hypervisors() { return Set.of("qemu", "firecracker", "cloud-hypervisor"); }

    @Override public MachineKind preferredMachine() { return MachineKind.MICROVM; }

    @Override public boolean mounts(GuestMount.Kind kind) { return true; }

    /**
     * On QEMU also {@code reboot=t}: the kernel's default reboot path hangs on microvm, so a guest that ends by
     * rebooting (urunc's urunit does) or panicking (panic=-1) would never exit; a triple fault resets every machine.
     */
    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor) {
        return cmdline(guest, hypervisor.equals("qemu") ? List.of("reboot=t") : List.of());
    }

    /**
     * Under TCG on QEMU also {@code tsc_early_khz=<host TSC kHz>}: a loaded host makes the guest's PIT-based TSC
     * calibration fail, and on microvm (no HPET/PM timer to fall back on) the kernel then hangs at boot.
     */
    @Override
    public String kernelCmdline(GuestSpec guest, String hypervisor, Accelerator accelerator) {
        if (accelerator == Accelerator.TCG && hypervisor.equals("qemu") && HostClock.tscKhz().isPresent())
            return cmdline(guest, List.of("reboot=t", "tsc_early_khz=" + HostClock.tscKhz().getAsLong()));
        return kernelCmdline(guest, hypervisor);
    }

    private String cmdline(GuestSpec guest, List<String> kernelParams) {
        List<String> words = new ArrayList<>(List.of("console=ttyS0", "panic=-1"));
        words.addAll(kernelParams);
        String initKey = "init=";
        switch (guest.root()) {
            case NONE -> { }
            case INITRD -> { words.addAll(List.of("root=/dev/ram0", "rw")); initKey = "rdinit="; }
            case BLOCK -> words.addAll(List.of("root=/dev/vda", "rw"));
            case SHARED_9P -> words.addAll(List.of("root=fs0", "rw", "rootfstype=9p",
                    "rootflags=trans=virtio,version=9p2000.L,msize=5000000,cache=mmap,posixacl"));
            case VIRTIOFS -> words.addAll(List.of("root=fs0", "rw", "rootfstype=virtiofs"));
        }
        for (GuestMount m : guest.mounts()) words.add(mountWord(m));
        guest.network().ifPresent(n -> words.add(ipOption(n)));
        if (guest.env().size() > MAX_INIT_ENVS)
            throw new InvalidGuestSpecException(guest.env().size() + " environment variables given; a Linux kernel command line passes at most " + MAX_INIT_ENVS);
        for (Map.Entry<String, String> e : guest.env().entrySet()) words.add(KernelArgs.envAssignment(e.getKey(), e.getValue()));
        List<String> args = guest.args();
        if (!args.isEmpty()) {
            String init = args.getFirst();
            if (init.isEmpty() || init.chars().anyMatch(c -> c == ' ' || c == '"' || Character.isISOControl(c)))
                throw new InvalidGuestSpecException("init program path must be non-empty without spaces, quotes or control characters: '" + init + "'");
            words.add(initKey + init);
            if (args.size() - 1 > MAX_INIT_ARGS)
                throw new InvalidGuestSpecException((args.size() - 1) + " arguments given after the program; a Linux kernel command line passes at most " + MAX_INIT_ARGS);
            if (args.size() > 1) {
                words.add("--");
                for (int i = 1; i < args.size(); i++) words.add(KernelArgs.quote(args.get(i), "argument " + i));
            }
        }
        return KernelArgs.checkLength(String.join(" ", words));
    }

    static String mountWord(GuestMount m) {
        String kind = switch (m.kind()) {
            case VIRTIOFS -> "virtiofs";
            case BLOCK -> "blk";
        };
        return KernelArgs.quote(MOUNT_PARAM + kind + ":" + m.source() + ":" + (m.readOnly() ? "ro" : "rw") + ":" + m.target(),
                "mount target " + m.target());
    }

    static final String MOUNT_PARAM = "urunc.mount=";

    static String ipOption(GuestNetwork n) {
        StringBuilder s = new StringBuilder("ip=").append(n.ipv4()).append("::").append(n.gateway() == null ? "" : n.gateway())
                .append(':').append(n.netmask()).append(":urunc:eth0:off");
        for (String dns : n.dns().stream().limit(2).toList()) s.append(':').append(dns);
        return s.toString();
    }
}
