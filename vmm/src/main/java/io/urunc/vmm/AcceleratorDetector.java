package io.urunc.vmm;

import java.lang.System.Logger.Level;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Decides between KVM and TCG. /dev/kvm being present is not enough (nested setups fail with "KVM internal
 * error ... emulation failure" or hang when a guest kernel switches to long mode), so KVM counts as usable only
 * if QEMU under {@code -accel kvm} runs a tiny BIOS image that does such a switch and reports through
 * isa-debug-exit (resource {@code qemu/kvm-probe.bin}, source {@code src/main/asm/kvm-probe.S}).
 * The result is cached per QEMU binary for the life of the process and, given a directory, on disk for the boot
 * ({@link KvmVerdicts}): the next daemon does not probe again.
 */
public final class AcceleratorDetector {
    private static final System.Logger LOG = System.getLogger(AcceleratorDetector.class.getName());
    private static final String PROBE_RESOURCE = "/io/urunc/vmm/qemu/kvm-probe.bin";
    /** The probe writes 0x2a to isa-debug-exit: QEMU exits with (0x2a << 1) | 1. */
    static final int PROBE_SUCCESS_STATUS = (0x2a << 1) | 1;
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);
    private static final Path KVM_DEVICE = Path.of("/dev/kvm");
    private static final Map<Path, ProbeResult> CACHE = new ConcurrentHashMap<>();

    /** Outcome of running the probe image: usable, or why not. */
    public record ProbeResult(boolean usable, String detail) {}

    private AcceleratorDetector() {}

    /**
     * TCG stays TCG; KVM is checked and fails with {@link AcceleratorUnavailableException} if unusable;
     * AUTO becomes KVM if usable, else TCG with a warning.
     */
    public static Accelerator resolve(Accelerator requested, Path qemuBinary) {
        return resolve(requested, qemuBinary, Optional.empty());
    }

    /** As {@link #resolve(Accelerator, Path)}, remembering the KVM verdict in {@code verdictDir} across processes. */
    public static Accelerator resolve(Accelerator requested, Path qemuBinary, Optional<Path> verdictDir) {
        return switch (requested) {
            case TCG -> Accelerator.TCG;
            case KVM -> {
                ProbeResult r = kvm(qemuBinary, verdictDir);
                if (!r.usable()) throw new AcceleratorUnavailableException("KVM was requested but cannot run a guest here: " + r.detail()
                        + " (use accelerator TCG or AUTO)");
                yield Accelerator.KVM;
            }
            case AUTO -> {
                ProbeResult r = kvm(qemuBinary, verdictDir);
                if (r.usable()) yield Accelerator.KVM;
                LOG.log(Level.WARNING, "KVM unusable ({0}); falling back to TCG software emulation, guests will run much slower", r.detail());
                yield Accelerator.TCG;
            }
        };
    }

    /** Cached KVM verdict for this QEMU binary. */
    public static ProbeResult kvm(Path qemuBinary) {
        return kvm(qemuBinary, Optional.empty());
    }

    /** Cached KVM verdict for this QEMU binary: this process's, else the one remembered in {@code verdictDir}. */
    public static ProbeResult kvm(Path qemuBinary, Optional<Path> verdictDir) {
        return CACHE.computeIfAbsent(qemuBinary, q -> {
            Optional<ProbeResult> remembered = verdictDir.flatMap(d -> KvmVerdicts.read(d, q));
            if (remembered.isPresent()) return remembered.get();
            ProbeResult r = checkKvm(q);
            verdictDir.ifPresent(d -> KvmVerdicts.write(d, q, r));
            return r;
        });
    }

    /** Forgets this process's verdicts (tests: a fresh daemon). */
    static void forgetProcessCache() {
        CACHE.clear();
    }

    private static ProbeResult checkKvm(Path qemuBinary) {
        if (!Files.exists(KVM_DEVICE)) return new ProbeResult(false, KVM_DEVICE + " does not exist");
        if (!Files.isReadable(KVM_DEVICE) || !Files.isWritable(KVM_DEVICE))
            return new ProbeResult(false, "no read/write access to " + KVM_DEVICE);
        return runProbe(qemuBinary, Accelerator.KVM, PROBE_TIMEOUT);
    }

    /** Boots the probe image under {@code accel} (KVM or TCG); uncached, for tests and diagnostics. */
    public static ProbeResult runProbe(Path qemuBinary, Accelerator accel, Duration timeout) {
        Path image = null;
        Path output = null;
        try {
            image = Files.createTempFile("urunc-kvm-probe", ".bin");
            output = Files.createTempFile("urunc-kvm-probe", ".log");
            try (InputStream in = AcceleratorDetector.class.getResourceAsStream(PROBE_RESOURCE)) {
                if (in == null) return new ProbeResult(false, "probe image " + PROBE_RESOURCE + " missing from the classpath");
                Files.write(image, in.readAllBytes());
            }
            List<String> argv = List.of(qemuBinary.toString(), "-M", "pc", "-accel", accel == Accelerator.KVM ? "kvm" : "tcg",
                    "-cpu", accel == Accelerator.KVM ? "host" : "max", "-m", "16M", "-nodefaults", "-no-user-config",
                    "-display", "none", "-bios", image.toString(), "-device", "isa-debug-exit,iobase=0x501,iosize=2");
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(2, TimeUnit.SECONDS);
                return new ProbeResult(false, "probe guest under -accel " + accel.name().toLowerCase() + " did not finish within "
                        + timeout.toMillis() + " ms" + firstLine(output));
            }
            int status = p.exitValue();
            if (status == PROBE_SUCCESS_STATUS) return new ProbeResult(true, "probe guest ran under -accel " + accel.name().toLowerCase());
            return new ProbeResult(false, "probe guest under -accel " + accel.name().toLowerCase() + " ended with QEMU status " + status + firstLine(output));
        } catch (IOException e) {
            return new ProbeResult(false, "cannot run " + qemuBinary + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new ProbeResult(false, "interrupted while probing");
        } finally {
            deleteQuietly(image);
            deleteQuietly(output);
        }
    }

    private static String firstLine(Path output) {
        try {
            String text = Files.readString(output).strip();
            if (text.isEmpty()) return "";
            return ": " + text.lines().filter(l -> !l.contains("warning:")).findFirst().orElse(text.lines().findFirst().orElseThrow());
        } catch (IOException e) {
            return "";
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // temp file; nothing else to do
        }
    }
}
