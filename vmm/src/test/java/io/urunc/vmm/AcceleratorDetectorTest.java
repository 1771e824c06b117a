package io.urunc.vmm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class AcceleratorDetectorTest {
    static final Path QEMU = Path.of("qemu-system-x86_64");

    @Test
    void probeImageReachesLongModeAndReportsThroughDebugExitUnderTcg() {
        long t0 = System.nanoTime();
        AcceleratorDetector.ProbeResult r = AcceleratorDetector.runProbe(QEMU, Accelerator.TCG, Duration.ofSeconds(3));
        assertTrue(r.usable(), r.detail());
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "probe should take well under the timeout");
    }

    @Test
    void tcgIsNeverProbed() {
        assertEquals(Accelerator.TCG, AcceleratorDetector.resolve(Accelerator.TCG, Path.of("/nonexistent/qemu")));
    }

    @Test
    void missingQemuBinaryMeansKvmUnusableWithTheReason() {
        AcceleratorDetector.ProbeResult r = AcceleratorDetector.runProbe(Path.of("/nonexistent/qemu"), Accelerator.TCG, Duration.ofSeconds(1));
        assertFalse(r.usable());
        assertTrue(r.detail().contains("/nonexistent/qemu"), r.detail());
    }

    /** This machine's KVM cannot run guests (nested virtualisation): AUTO must fall back and KVM must fail clearly. */
    @Test
    void autoFallsBackToTcgAndExplicitKvmFailsWhenKvmCannotRunTheProbe() {
        long t0 = System.nanoTime();
        AcceleratorDetector.ProbeResult verdict = AcceleratorDetector.kvm(QEMU);
        long probeNanos = System.nanoTime() - t0;
        assumeFalse(verdict.usable(), "KVM works on this host: " + verdict.detail());
        assertTrue(probeNanos < 5_000_000_000L, "probe must give up after ~3 s, took " + probeNanos / 1_000_000 + " ms");

        assertEquals(Accelerator.TCG, AcceleratorDetector.resolve(Accelerator.AUTO, QEMU));
        var e = assertThrows(AcceleratorUnavailableException.class, () -> AcceleratorDetector.resolve(Accelerator.KVM, QEMU));
        assertTrue(e.getMessage().startsWith("KVM was requested but cannot run a guest here: "), e.getMessage());
        assertTrue(e.getMessage().contains(verdict.detail()), e.getMessage());

        long t1 = System.nanoTime();
        AcceleratorDetector.resolve(Accelerator.AUTO, QEMU);
        assertTrue(System.nanoTime() - t1 < 50_000_000L, "second resolution is served from the per-process cache");
    }

    @Test
    void theVerdictIsRememberedOnDiskForTheNextDaemonAndOnlyUnderTheSameConditions(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        AcceleratorDetector.forgetProcessCache();
        AcceleratorDetector.ProbeResult first = AcceleratorDetector.kvm(qemu, java.util.Optional.of(dir));
        AcceleratorDetector.forgetProcessCache(); // a new daemon
        long t0 = System.nanoTime();
        AcceleratorDetector.ProbeResult again = AcceleratorDetector.kvm(qemu, java.util.Optional.of(dir));
        assertTrue(System.nanoTime() - t0 < 50_000_000L, "read from disk, not probed again");
        assertEquals(first, again);

        // another QEMU build (same path, new mtime) is probed again: the remembered verdict no longer applies
        Path file;
        try (var files = java.nio.file.Files.list(dir)) {
            file = files.filter(f -> f.getFileName().toString().startsWith("kvm-")).findFirst().orElseThrow();
        }
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file)));
        String stored = java.nio.file.Files.readString(file);
        java.nio.file.Files.writeString(file, stored.replaceFirst("qemu=[^ ]+", "qemu=/usr/bin/qemu-system-x86_64/1/1"));
        assertTrue(KvmVerdicts.read(dir, qemu).isEmpty(), "a verdict for other conditions is not used");
        AcceleratorDetector.forgetProcessCache();
    }
}
