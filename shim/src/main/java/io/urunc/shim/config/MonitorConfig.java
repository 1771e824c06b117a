package io.urunc.shim.config;

import java.util.Optional;

/**
 * urunc's [monitors.NAME] table, plus this runtime's accelerator and seccomp switches and the unprivileged
 * identity the VMM drops to ({@code drop_privileges}, ids from {@code vmm_id_base}; see {@link io.urunc.vmm.VmmUser}).
 */
public record MonitorConfig(
        Optional<String> path,
        int defaultMemoryMb,
        int defaultVcpus,
        String accelerator,
        boolean seccomp,
        boolean dropPrivileges,
        long vmmIdBase) {

    public static MonitorConfig defaults() {
        return new MonitorConfig(Optional.empty(), 256, 1, "auto", true, true, io.urunc.vmm.VmmUser.DEFAULT_BASE);
    }
}
