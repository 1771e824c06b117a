package io.urunc.vmm;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything an adapter needs to plan one VM. {@code accelerator} is KVM or TCG (resolve AUTO first with
 * {@link AcceleratorDetector}); {@code runDir} is a private, short-pathed directory for sockets and config files;
 * {@code runAs}, if set, is the identity the VMM drops to once started ({@link VmmUser}); {@code sharedDirs} are
 * virtiofs shares whose backends (virtiofsd) the caller runs.
 */
public record VmConfig(String vmId, Path hypervisorBinary, Path kernel, Optional<Path> initrd, String kernelCmdline,
                       VmResources resources, Accelerator accelerator, Optional<NetAttachment> net,
                       List<BlockDevice> blocks, List<String> typeExtraArgs, Path runDir, boolean seccomp,
                       GuestDeviceHints hints, Optional<VmmUser> runAs, List<SharedDirectory> sharedDirs) {
    public VmConfig {
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(hypervisorBinary, "hypervisorBinary");
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(resources, "resources");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(runDir, "runDir");
        initrd = initrd == null ? Optional.empty() : initrd;
        net = net == null ? Optional.empty() : net;
        kernelCmdline = kernelCmdline == null ? "" : kernelCmdline;
        blocks = blocks == null ? List.of() : List.copyOf(blocks);
        typeExtraArgs = typeExtraArgs == null ? List.of() : List.copyOf(typeExtraArgs);
        hints = hints == null ? GuestDeviceHints.DEFAULT : hints;
        runAs = runAs == null ? Optional.empty() : runAs;
        sharedDirs = sharedDirs == null ? List.of() : List.copyOf(sharedDirs);
    }

    /** The integrator's shape: default device hints (QEMU microvm). */
    public VmConfig(String vmId, Path hypervisorBinary, Path kernel, Optional<Path> initrd, String kernelCmdline,
                    VmResources resources, Accelerator accelerator, Optional<NetAttachment> net, List<BlockDevice> blocks,
                    List<String> typeExtraArgs, Path runDir, boolean seccomp) {
        this(vmId, hypervisorBinary, kernel, initrd, kernelCmdline, resources, accelerator, net, blocks, typeExtraArgs,
                runDir, seccomp, GuestDeviceHints.DEFAULT, Optional.empty(), List.of());
    }

    /** This config with the unikernel type's device hints, i.e. {@code config.withHints(type.deviceHints())}. */
    public VmConfig withHints(GuestDeviceHints h) {
        return new VmConfig(vmId, hypervisorBinary, kernel, initrd, kernelCmdline, resources, accelerator, net, blocks,
                typeExtraArgs, runDir, seccomp, h, runAs, sharedDirs);
    }

    /** This config with the VMM dropping to {@code user} (and into {@code runDir}) where the hypervisor can. */
    public VmConfig withRunAs(VmmUser user) {
        return new VmConfig(vmId, hypervisorBinary, kernel, initrd, kernelCmdline, resources, accelerator, net, blocks,
                typeExtraArgs, runDir, seccomp, hints, Optional.of(user), sharedDirs);
    }

    /** This config with {@code dirs} shared over virtiofs. */
    public VmConfig withSharedDirs(List<SharedDirectory> dirs) {
        return new VmConfig(vmId, hypervisorBinary, kernel, initrd, kernelCmdline, resources, accelerator, net, blocks,
                typeExtraArgs, runDir, seccomp, hints, runAs, dirs);
    }
}
