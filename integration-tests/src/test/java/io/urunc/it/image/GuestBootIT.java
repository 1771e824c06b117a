package io.urunc.it.image;

import io.urunc.it.support.Exec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The test guests of guests/build.sh boot on real QEMU (TCG) and turn their exit code into QEMU's status:
 * N>0 -> (N<<1)|1 through isa-debug-exit, 0 -> reset with -no-reboot -> 0.
 */
class GuestBootIT {
    private static final Path REPO = Path.of(System.getProperty("urunc.repo", "..")).toAbsolutePath().normalize();
    private static final Path OUT = REPO.resolve("guests/out");

    @BeforeAll
    static void buildGuests() {
        assumeTrue(ImageFixtures.hasCommand("qemu-system-x86_64"), "needs qemu-system-x86");
        Exec.run(Duration.ofMinutes(5), Map.of(), REPO.resolve("guests/build.sh").toString()).ok();
    }

    private static List<String> qemu(String machine, String... rest) {
        List<String> cmd = new ArrayList<>(List.of("qemu-system-x86_64", "-M", machine, "-accel", "tcg", "-nodefaults",
                "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
                "-device", "isa-debug-exit,iobase=0x501,iosize=2"));
        cmd.addAll(List.of(rest));
        return cmd;
    }

    private static Exec.Result tiny(String machine, String cmdline) {
        return Exec.run(Duration.ofSeconds(30), Map.of(),
                qemu(machine, "-m", "64M", "-kernel", OUT.resolve("tiny/tiny.elf").toString(), "-append", cmdline));
    }

    private static Exec.Result linux(String args) {
        return Exec.run(Duration.ofSeconds(90), Map.of(), qemu("pc", "-m", "256M",
                "-kernel", OUT.resolve("linux/vmlinuz").toString(), "-initrd", OUT.resolve("linux/initrd.cpio.gz").toString(),
                "-append", "console=ttyS0 panic=-1 root=/dev/ram0 rw rdinit=/init quiet -- " + args));
    }

    @Test
    void tinyExitCodesReachQemuOnMicrovmAndPc() {
        Exec.Result three = tiny("microvm", "exit=3");
        assertEquals(7, three.exit(), three.toString());
        assertTrue(three.stdout().contains("TINY: booted") && three.stdout().contains("TINY: cmdline=exit=3"), three.stdout());
        Exec.Result zero = tiny("pc", "console=ttyS0 panic=-1 rdinit=exit=0");
        assertEquals(0, zero.exit(), zero.toString());
        assertTrue(zero.stdout().contains("TINY: cmdline=console=ttyS0 panic=-1 rdinit=exit=0"), zero.stdout());
    }

    @Test
    void tinyTicksAboutEveryHundredMilliseconds() {
        long start = System.nanoTime();
        Exec.Result r = tiny("microvm", "ticks=3 exit=2");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(5, r.exit(), r.toString());
        assertTrue(r.stdout().contains("TINY: tick 1") && r.stdout().contains("TINY: tick 3") && !r.stdout().contains("tick 4"), r.stdout());
        assertTrue(ms >= 250, "3 ticks took only " + ms + " ms");
    }

    @Test
    void tinyRunStaysAliveUntilKilled(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("serial.log");
        Process p = new ProcessBuilder(qemu("microvm", "-m", "64M", "-kernel", OUT.resolve("tiny/tiny.elf").toString(),
                "-append", "run")).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            assertTrue(!p.waitFor(1500, TimeUnit.MILLISECONDS), "tiny run exited with " + (p.isAlive() ? "-" : p.exitValue()));
        } finally {
            ImageFixtures.stop(p);
        }
        String out = Files.readString(log);
        assertTrue(out.contains("TINY: running"), out);
    }

    @Test
    void linuxGuestRunsItsArgumentsAndReportsTheExitCode() {
        Exec.Result hello = linux("/bin/busybox echo URUNC-HELLO-OK");
        assertEquals(0, hello.exit(), hello.toString());
        assertTrue(hello.stdout().contains("URUNC-GUEST: init") && hello.stdout().contains("URUNC-HELLO-OK"), hello.stdout());
        Exec.Result three = linux("/bin/sh -c \"exit 3\"");
        assertEquals(7, three.exit(), three.toString());
        assertTrue(three.stdout().contains("URUNC-GUEST: exit code 3"), three.stdout());
    }
}
