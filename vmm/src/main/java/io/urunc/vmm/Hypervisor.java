package io.urunc.vmm;

import java.util.Optional;

/** A virtual machine monitor adapter: turns a {@link VmConfig} into a command line and interprets its exit. */
public interface Hypervisor {
    /** Name as used in the {@code com.urunc.unikernel.hypervisor} annotation, e.g. "qemu". */
    String name();

    /** Binary looked up on PATH when the config gives none. */
    String defaultBinary();

    LaunchPlan plan(VmConfig config) throws VmmException;

    /** Whether it can share host directories with the guest ({@link VmConfig#sharedDirs}, virtiofs). */
    default boolean sharesDirectories() { return false; }

    /**
     * {@code plan} with the guest held until {@link VmControl#resume()}, where this VMM can start that way
     * ({@link LaunchPlan#guestHeld()} then says so); otherwise {@code plan} itself, to be started when the guest
     * should run.
     */
    default LaunchPlan holdGuest(LaunchPlan plan) { return plan; }

    /**
     * Container exit code for the VMM's normal exit status (WIFEXITED). A VMM killed by a signal is the
     * caller's business (conventionally 128 + signal).
     */
    int containerExitCode(int vmmExitStatus);

    /**
     * As {@link #containerExitCode(int)}, knowing why the VMM said the guest stopped ({@link VmControl#stopReason}),
     * e.g. that its kernel panicked.
     */
    default int containerExitCode(int vmmExitStatus, Optional<String> stopReason) {
        return containerExitCode(vmmExitStatus);
    }

    /** A controller for the VM started from {@code plan}, if this VMM has a control channel. Connects lazily. */
    Optional<VmControl> control(LaunchPlan plan);
}
