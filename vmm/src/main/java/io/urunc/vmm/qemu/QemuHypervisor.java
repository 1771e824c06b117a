package io.urunc.vmm.qemu;

import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.MachineKind;
import io.urunc.vmm.SharedDirectory;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.VmmException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * QEMU (qemu-system-x86_64) with direct kernel boot. The guest console is the first serial port on QEMU's stdio;
 * QMP listens on {@code <runDir>/qmp.sock}; {@code isa-debug-exit} at port 0x501 lets the guest set the exit code,
 * the ISA {@code pvpanic} device (port 0x505) lets its kernel report a panic.
 */
public final class QemuHypervisor implements Hypervisor {
    /** sun_path is 108 bytes including the terminating NUL. */
    static final int MAX_UNIX_SOCKET_PATH = 107;
    public static final String QMP_SOCKET = "qmp.sock";
    /** The id of the guest memory backend when it must be shared with a vhost-user backend. */
    static final String SHARED_MEMORY = "mem";
    public static final String SANDBOX = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny";
    /**
     * With {@code -runas} QEMU itself calls setuid/setgid after its seccomp filter is in place: they must be
     * allowed (afterwards it has no capabilities and no_new_privs, so they can no longer raise anything).
     */
    public static final String SANDBOX_RUNAS = "on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny";

    @Override public String name() { return "qemu"; }

    @Override public boolean sharesDirectories() { return true; }

    @Override public String defaultBinary() { return "qemu-system-x86_64"; }

    @Override
    public LaunchPlan plan(VmConfig c) throws VmmException {
        Path qmp = c.runDir().resolve(QMP_SOCKET);
        socketPathFits(qmp, "QMP socket");
        for (SharedDirectory d : c.sharedDirs()) socketPathFits(d.socket(), "virtiofs socket");
        MachineKind machine = c.hints().machine();
        List<String> a = new ArrayList<>();
        a.add(c.hypervisorBinary().toString());
        a.addAll(List.of("-name", QemuOpts.escape(c.vmId())));
        // vhost-user devices need guest memory the backend (virtiofsd) can map: a shared memfd
        a.addAll(List.of("-M", machine.qemuName() + (c.sharedDirs().isEmpty() ? "" : ",memory-backend=" + SHARED_MEMORY)));
        a.addAll(switch (c.accelerator()) {
            case KVM -> List.of("-accel", "kvm", "-cpu", "host");
            case TCG -> List.of("-accel", "tcg", "-cpu", "max");
            case AUTO -> throw new VmmException("accelerator AUTO must be resolved (AcceleratorDetector.resolve) before planning a QEMU VM");
        });
        a.addAll(List.of("-m", c.resources().memoryMb() + "M", "-smp", Integer.toString(c.resources().vcpus())));
        if (!c.sharedDirs().isEmpty()) {
            a.addAll(List.of("-object", "memory-backend-memfd,id=" + SHARED_MEMORY + ",size=" + c.resources().memoryMb() + "M,share=on"));
            // microvm's virtio-mmio devices are legacy (version 1) by default; virtiofsd serves modern devices only
            if (machine == MachineKind.MICROVM) a.addAll(List.of("-global", "virtio-mmio.force-legacy=false"));
        }
        a.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"));
        // signal=off: a ^C typed on a container tty goes to the guest instead of killing QEMU.
        a.addAll(List.of("-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"));
        a.addAll(List.of("-qmp", "unix:" + QemuOpts.escape(qmp.toString()) + ",server=on,wait=off"));
        a.addAll(List.of("-device", "isa-debug-exit,iobase=0x501,iosize=2"));
        // a guest kernel with a pvpanic driver reports its panic: QEMU then shuts down with reason guest-panic
        a.addAll(List.of("-device", "pvpanic", "-action", "panic=shutdown"));
        if (c.seccomp()) a.addAll(List.of("-sandbox", c.runAs().isPresent() ? SANDBOX_RUNAS : SANDBOX));
        // once the machine is built: no root, no capabilities, and only the run dir as its file system
        c.runAs().ifPresent(u -> a.addAll(List.of("-runas", u.uidGid(), "-chroot", c.runDir().toString())));
        a.addAll(List.of("-kernel", unparsed(c.kernel(), "kernel")));
        if (c.initrd().isPresent()) a.addAll(List.of("-initrd", unparsed(c.initrd().get(), "initrd")));
        a.addAll(List.of("-append", c.kernelCmdline()));
        if (c.net().isPresent()) {
            var n = c.net().get();
            a.addAll(List.of("-netdev", "tap,id=net0,ifname=" + QemuOpts.escape(n.tapName()) + ",script=no,downscript=no"));
            StringBuilder dev = new StringBuilder(machine.virtioDevice("net")).append(",netdev=net0,mac=").append(QemuOpts.escape(n.mac()));
            for (Map.Entry<String, String> p : new java.util.TreeMap<>(c.hints().nicProperties()).entrySet())
                dev.append(',').append(p.getKey()).append('=').append(QemuOpts.escape(p.getValue()));
            a.addAll(List.of("-device", dev.toString()));
        }
        for (BlockDevice b : c.blocks()) {
            String file = QemuOpts.escape(b.path().toString());
            if (!b.inheritedFds().isEmpty()) {
                // one fd set, numbered as its first descriptor: QEMU dups from it at -drive, before -runas/-chroot
                int set = b.inheritedFds().getFirst();
                for (int fd : b.inheritedFds()) a.addAll(List.of("-add-fd", "fd=" + fd + ",set=" + set + ",opaque=" + b.id()));
                file = "/dev/fdset/" + set;
            }
            a.addAll(List.of("-drive", (b.hostDevice() ? "file.driver=host_device,file.filename=" : "file=") + file + ",format=raw,if=none,id=" + b.id()
                    + (b.readOnly() ? ",readonly=on" : "")));
            a.addAll(List.of("-device", machine.virtioDevice("blk") + ",drive=" + b.id() + ",serial=" + b.id()));
        }
        for (int i = 0; i < c.sharedDirs().size(); i++) {
            SharedDirectory d = c.sharedDirs().get(i);
            a.addAll(List.of("-chardev", "socket,id=vfs" + i + ",path=" + QemuOpts.escape(d.socket().toString())));
            a.addAll(List.of("-device", (machine == MachineKind.MICROVM ? "vhost-user-fs-device" : "vhost-user-fs-pci")
                    + ",chardev=vfs" + i + ",tag=" + d.tag()));
        }
        a.addAll(c.typeExtraArgs());
        return new LaunchPlan(a, Map.of(), Optional.of(qmp));
    }

    private static void socketPathFits(Path socket, String what) throws VmmException {
        int length = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (length > MAX_UNIX_SOCKET_PATH)
            throw new VmmException(what + " path " + socket + " is " + length + " bytes; unix socket paths are limited to "
                    + MAX_UNIX_SOCKET_PATH + " bytes: use a shorter runDir");
    }

    /** {@code -S}: QEMU builds the machine and waits for QMP {@code cont}. */
    @Override
    public LaunchPlan holdGuest(LaunchPlan plan) { return plan.heldBy(List.of("-S")); }

    /**
     * A file path QEMU takes verbatim only if it has no comma or white space: the multiboot loader reads
     * {@code -initrd} as a comma-separated module list and cuts each name at a space (its arguments).
     */
    static String unparsed(Path file, String what) throws VmmException {
        String s = file.toString();
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == ',' || Character.isWhitespace(ch) || Character.isSpaceChar(ch))
                throw new VmmException(what + " path " + s + " contains '" + (ch == ',' ? "," : "white space")
                        + "', which QEMU would parse as a list or arguments: give the VMM a path without them");
        }
        return s;
    }

    /**
     * The container's code when the guest kernel panicked and said so on the pvpanic device. isa-debug-exit codes
     * only reach 127 (QEMU's status is 8 bits of 2N+1), so this one means the crash alone.
     */
    public static final int GUEST_CRASHED = 255;
    /** QEMU stopped by a signal it handles (SIGTERM, SIGINT, SIGHUP) exits 0: reported as SIGTERM, 128 + 15. */
    public static final int STOPPED_BY_SIGNAL = 143;

    /**
     * A status 0 is refined by QEMU's SHUTDOWN reason: "guest-panic" gives {@link #GUEST_CRASHED}, "host-signal"
     * (someone signalled QEMU) {@link #STOPPED_BY_SIGNAL}. A reset stays 0: guests end that way too (urunc's urunit
     * reboots, unikernels triple-fault), so a panic that only resets cannot be told from a clean end.
     */
    @Override
    public int containerExitCode(int status, Optional<String> stopReason) {
        if (status == 0 && stopReason.isPresent()) {
            if (stopReason.get().equals("guest-panic")) return GUEST_CRASHED;
            if (stopReason.get().equals("host-signal")) return STOPPED_BY_SIGNAL;
        }
        return containerExitCode(status);
    }

    /** 0: guest powered off (or reset under -no-reboot); odd s >= 3: guest wrote (s-1)/2 to isa-debug-exit; else QEMU's own status. */
    @Override
    public int containerExitCode(int status) {
        if (status >= 3 && (status & 1) == 1) return (status - 1) / 2;
        return status;
    }

    @Override
    public Optional<VmControl> control(LaunchPlan plan) {
        return plan.controlSocket().map(s -> new QmpClient(s, Duration.ofSeconds(3), Duration.ofSeconds(5)));
    }
}
