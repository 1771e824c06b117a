package io.urunc.vmm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

class HostClockTest {
    @Test
    void invariantTscHostGivesCpuMhzInKhz(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cpuinfo");
        Files.writeString(f, "processor\t: 0\ncpu MHz\t\t: 2445.432\nflags\t\t: fpu tsc constant_tsc nonstop_tsc\n");
        assertEquals(OptionalLong.of(2445432), HostClock.read(f));
    }

    @Test
    void withoutConstantTscOrCpuinfoNothingIsClaimed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cpuinfo");
        Files.writeString(f, "cpu MHz\t\t: 800.000\nflags\t\t: fpu tsc\n");
        assertEquals(OptionalLong.empty(), HostClock.read(f));
        assertEquals(OptionalLong.empty(), HostClock.read(dir.resolve("missing")));
    }
}
