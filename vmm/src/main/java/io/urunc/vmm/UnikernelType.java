package io.urunc.vmm;

import java.util.List;
import java.util.Set;

/** A guest family (linux, unikraft, ...): knows how to tell its kernel what to run. */
public interface UnikernelType {
    /** Name as used in the {@code com.urunc.unikernel.unikernelType} annotation. */
    String name();

    /** Hypervisor names this type runs on. */
    Set<String> hypervisors();

    /**
     * The kernel command line for {@code guest} on {@code hypervisor}.
     *
     * @throws InvalidGuestSpecException when an argument, variable or setting cannot be carried
     */
    String kernelCmdline(GuestSpec guest, String hypervisor);

    /**
     * As {@link #kernelCmdline(GuestSpec, String)}, knowing the accelerator the VM will run under: types may add
     * guest settings that only matter there (linux adds a TSC frequency under TCG). Prefer this one.
     */
    default String kernelCmdline(GuestSpec guest, String hypervisor, Accelerator accelerator) {
        return kernelCmdline(guest, hypervisor);
    }

    /**
     * Whether its kernel command line tells the guest to mount {@link GuestSpec#mounts()} of this kind (virtiofs
     * shares; disks). A type that cannot must not be given any: they would silently not be there.
     */
    default boolean mounts(GuestMount.Kind kind) { return false; }

    /** VMM arguments this type needs on {@code hypervisor} in addition to the adapter's own. */
    default List<String> extraVmmArgs(String hypervisor, GuestSpec guest) { return List.of(); }

    /** QEMU machine this guest boots on; PC unless the type knows the guest handles microvm. */
    default MachineKind preferredMachine() { return MachineKind.PC; }

    /** Device model hints for the adapter: pass to {@link VmConfig#withHints}. */
    default GuestDeviceHints deviceHints() { return GuestDeviceHints.DEFAULT.withMachine(preferredMachine()); }

    /** Fails with a clear message if this type cannot run on {@code hypervisor}. */
    default void requireHypervisor(String hypervisor) throws VmmException {
        if (!hypervisors().contains(hypervisor))
            throw new VmmException("unikernel type '" + name() + "' does not run on hypervisor '" + hypervisor
                    + "' (supported: " + String.join(", ", new java.util.TreeSet<>(hypervisors())) + ")");
    }
}
