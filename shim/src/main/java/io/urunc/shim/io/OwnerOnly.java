package io.urunc.shim.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Modes of what the daemon creates for root alone (state dir, run dirs, sockets that drive root QEMU), set
 * explicitly: the umask the daemon inherits from containerd or a shell may be anything, 0 included.
 */
public final class OwnerOnly {
    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private OwnerOnly() {}

    /** Creates {@code dir} (and missing parents) and makes it 0700, also if it already existed. */
    public static Path directory(Path dir) throws IOException {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(DIR));
        Files.setPosixFilePermissions(dir, DIR);
        return dir;
    }

    /** Makes a socket or file the daemon (or its VMM) created 0600. */
    public static void file(Path file) throws IOException {
        Files.setPosixFilePermissions(file, FILE);
    }
}
