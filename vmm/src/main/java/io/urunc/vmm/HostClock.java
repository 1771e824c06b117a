package io.urunc.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The host's TSC frequency, which is also what a TCG guest's TSC ticks at (QEMU's TCG reads the host TSC).
 * Taken from /proc/cpuinfo's "cpu MHz" when the host TSC is invariant (constant_tsc); only roughly right on
 * hosts that scale their clock, which costs a guest some clock drift but not its boot.
 */
public final class HostClock {
    private static final OptionalLong TSC_KHZ = read(Path.of("/proc/cpuinfo"));

    private HostClock() {}

    public static OptionalLong tscKhz() { return TSC_KHZ; }

    static OptionalLong read(Path cpuinfo) {
        try {
            String text = Files.readString(cpuinfo);
            boolean invariant = text.lines().anyMatch(l -> l.startsWith("flags") && l.contains(" constant_tsc"));
            if (!invariant) return OptionalLong.empty();
            return text.lines().filter(l -> l.startsWith("cpu MHz")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .map(mhz -> OptionalLong.of(Math.round(Double.parseDouble(mhz) * 1000)))
                    .orElse(OptionalLong.empty());
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }
}
