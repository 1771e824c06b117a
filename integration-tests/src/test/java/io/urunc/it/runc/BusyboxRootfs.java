package io.urunc.it.runc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A container rootfs with nothing but busybox-static: enough for sh, echo, sleep and true. */
public final class BusyboxRootfs {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    private BusyboxRootfs() {}

    public static Path create(Path parent, String name) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) throw new IllegalStateException(BUSYBOX + " missing: apt-get install busybox-static");
        Path rootfs = Files.createDirectories(parent.resolve(name));
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"), StandardCopyOption.REPLACE_EXISTING);
        for (String applet : new String[] {"sh", "echo", "sleep", "true", "cat", "kill"}) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        return rootfs;
    }
}
