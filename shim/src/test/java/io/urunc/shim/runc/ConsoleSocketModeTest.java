package io.urunc.shim.runc;

import io.urunc.sys.Umask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ConsoleSocketModeTest {
    @Test
    void theConsoleSocketIsOwnerOnlyUnderUmaskZero(@TempDir Path dir) throws Exception {
        int saved = Umask.set(0);
        try (ConsoleSocket socket = ConsoleSocket.listen(dir.resolve("run/console.sock"))) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("run/console.sock"))));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("run"))));
        } finally {
            Umask.set(saved);
        }
    }
}
