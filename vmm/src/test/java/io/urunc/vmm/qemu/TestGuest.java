package io.urunc.vmm.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Fixtures for real Linux boots: the Debian cloud kernel (env URUNC_TEST_KERNEL, else downloaded once with
 * apt-get into target/test-kernel, a build cache, with its pvpanic modules) and a busybox initrd built per test.
 */
final class TestGuest {
    private static final Path CACHE = Path.of("target/test-kernel").toAbsolutePath();

    private TestGuest() {}

    static Path kernel() throws Exception {
        String env = System.getenv("URUNC_TEST_KERNEL");
        if (env != null) return Path.of(env);
        Path cached = CACHE.resolve("vmlinuz");
        if (Files.exists(cached) && Files.exists(CACHE.resolve(PVPANIC_MODULES.getLast()))) return cached;
        Files.createDirectories(CACHE);
        // The meta package names the current kernel package; fetch that and unpack its bzImage.
        int rc = sh(CACHE, """
                set -e
                apt-get download linux-image-cloud-amd64 >/dev/null 2>&1
                dep=$(dpkg-deb -f linux-image-cloud-amd64_*.deb Depends | cut -d' ' -f1)
                apt-get download "$dep" >/dev/null 2>&1
                mkdir -p x && dpkg -x "$dep"_*.deb x
                cp x/lib/modules/*/kernel/drivers/misc/pvpanic/*.ko .
                cp x/boot/vmlinuz-* vmlinuz.tmp && mv vmlinuz.tmp vmlinuz
                rm -rf x ./*.deb
                """);
        assumeTrue(rc == 0 && Files.exists(cached), "no test kernel: set URUNC_TEST_KERNEL or allow apt-get download");
        return cached;
    }

    /** The test kernel's pvpanic driver (core, then ACPI/MMIO), in load order; the test is skipped without them. */
    static final List<String> PVPANIC_MODULES = List.of("pvpanic.ko", "pvpanic-mmio.ko");

    static List<Path> pvpanicModules() throws Exception {
        Path kernel = kernel();
        List<Path> modules = PVPANIC_MODULES.stream().map(m -> kernel.resolveSibling(m)).toList();
        assumeTrue(modules.stream().allMatch(Files::exists), "no pvpanic modules next to the test kernel " + kernel);
        return modules;
    }

    /** gzip'd newc initrd with busybox, the guest-exit helper, {@code files} in /lib and {@code init} as /init. */
    static Path initrd(Path dir, String init, List<Path> files) throws Exception {
        Path lib = Files.createDirectories(dir.resolve("initrd-root/lib"));
        for (Path f : files) Files.copy(f, lib.resolve(f.getFileName()));
        return initrd(dir, init);
    }

    /** gzip'd newc initrd with busybox, the guest-exit helper and {@code init} as /init. */
    static Path initrd(Path dir, String init) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static not installed");
        Path root = Files.createDirectories(dir.resolve("initrd-root"));
        Path bin = Files.createDirectories(root.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        Path src = dir.resolve("guest-exit.c");
        try (InputStream in = TestGuest.class.getResourceAsStream("/guest/guest-exit.c")) {
            Files.write(src, in.readAllBytes());
        }
        assumeTrue(sh(dir, "gcc -static -nostdlib -O2 -fno-pie -no-pie -o " + bin.resolve("guest-exit") + " " + src) == 0, "gcc cannot build guest-exit");
        Files.writeString(root.resolve("init"), init);
        root.resolve("init").toFile().setExecutable(true);
        Path out = dir.resolve("initrd.gz");
        if (sh(root, "find . | cpio -o -H newc 2>/dev/null | gzip > " + out) != 0) throw new IOException("cpio failed");
        return out;
    }

    private static int sh(Path dir, String script) throws Exception {
        Process p = new ProcessBuilder(List.of("bash", "-c", script)).directory(dir.toFile()).inheritIO().start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
