package io.urunc.shim.vm;

import io.urunc.shim.io.OwnerOnly;
import io.urunc.shim.io.TaskIo;
import io.urunc.sys.Umask;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.qemu.QemuHypervisor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Started under umask 0 (a shell or service manager may give the daemon any umask), nothing is open to others. */
class UmaskZeroTest {
    private int saved;

    @BeforeEach
    void umaskZero() {
        saved = Umask.set(0);
    }

    @AfterEach
    void restore() {
        Umask.set(saved);
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void theStateAndRunDirsAreOwnerOnly(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path run = OwnerOnly.directory(state.resolve("t/abc"));
        assertEquals("rwx------", mode(state.resolve("t")));
        assertEquals("rwx------", mode(run));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxrwxrwx"));
        OwnerOnly.directory(state);
        assertEquals("rwx------", mode(state), "an existing state dir is made private too");
    }

    @Test
    void qemusControlSocketIsOwnerOnly(@TempDir Path dir) throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        assumeTrue(Files.isExecutable(qemu), "needs QEMU");
        Path qmp = dir.resolve("qmp.sock");
        LaunchPlan plan = new LaunchPlan(List.of(qemu.toString(), "-machine", "none", "-S", "-nodefaults",
                "-display", "none", "-qmp", "unix:" + qmp + ",server=on,wait=off"), Map.of(), Optional.of(qmp));
        VmProcess vmm = VmProcess.launch(plan, TaskIo.open("", "", ""), VmProcess.NamespaceEntry.HOST, Optional.empty());
        try (VmControl control = new QmpConnector().connect(new QemuHypervisor(), plan, vmm, TaskIo.open("", "", ""))) {
            assertEquals("rw-------", mode(qmp), "QMP drives a root VMM: only root may connect");
        } finally {
            vmm.signal(9);
        }
    }
}
