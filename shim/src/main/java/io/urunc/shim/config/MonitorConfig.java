package io.urunc.shim.config;

import java.util.Optional;

/** urunc's [monitors.NAME] table, plus the accelerator and seccomp switches of this runtime. */
public record MonitorConfig(
        Optional<String> path,
        int defaultMemoryMb,
        int defaultVcpus,
        String accelerator,
        boolean seccomp) {

    public static MonitorConfig defaults() {
        return new MonitorConfig(Optional.empty(), 256, 1, "auto", true);
    }
}
