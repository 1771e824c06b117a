package io.urunc.vmm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The KVM verdict remembered on disk, so that a daemon start does not pay the ~1 s probe again (on hosts where KVM
 * is unusable the probe runs until its timeout). A verdict holds for one boot, one QEMU binary (path, size, mtime)
 * and one {@code /dev/kvm} (device inode and its change time): anything else and the probe runs again.
 */
final class KvmVerdicts {
    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");
    private static final Path KVM = Path.of("/dev/kvm");

    private KvmVerdicts() {}

    /** The verdict stored in {@code dir} for {@code qemu}, if it was taken under the same conditions as now. */
    static Optional<AcceleratorDetector.ProbeResult> read(Path dir, Path qemu) {
        try {
            List<String> lines = Files.readAllLines(file(dir, qemu), StandardCharsets.UTF_8);
            if (lines.size() != 3 || !lines.get(0).equals(conditions(qemu))) return Optional.empty();
            return Optional.of(new AcceleratorDetector.ProbeResult(Boolean.parseBoolean(lines.get(1)), lines.get(2)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Stores {@code verdict} (best effort: a later start probes again if this fails). */
    static void write(Path dir, Path qemu, AcceleratorDetector.ProbeResult verdict) {
        try {
            Files.createDirectories(dir);
            Path target = file(dir, qemu);
            Path tmp = Files.createTempFile(dir, ".verdict", ".tmp",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            String detail = verdict.detail().replace('\n', ' ');
            Files.writeString(tmp, conditions(qemu) + "\n" + verdict.usable() + "\n" + detail + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ignored) {
            // not remembered: the next daemon probes again
        }
    }

    /** Boot, QEMU binary and /dev/kvm, as one line. */
    static String conditions(Path qemu) throws IOException {
        Path real = qemu.toRealPath();
        BasicFileAttributes q = Files.readAttributes(real, BasicFileAttributes.class);
        String kvm = Files.exists(KVM) ? Files.getAttribute(KVM, "unix:rdev") + "/" + Files.getAttribute(KVM, "unix:ino")
                + "/" + Files.getAttribute(KVM, "unix:ctime") : "absent";
        return "boot=" + Files.readString(BOOT_ID).strip() + " qemu=" + real + "/" + q.size() + "/" + q.lastModifiedTime().toMillis()
                + " kvm=" + kvm;
    }

    private static Path file(Path dir, Path qemu) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(qemu.toString().getBytes(StandardCharsets.UTF_8));
            return dir.resolve("kvm-" + HexFormat.of().formatHex(h, 0, 8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
