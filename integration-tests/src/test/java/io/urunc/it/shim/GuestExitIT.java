package io.urunc.it.shim;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Honest exit codes of Linux guests on QEMU (TCG) through ctr: a kernel panic the guest reports on QEMU's pvpanic
 * device (the test guest's /init loads the driver) is a crash, 255; a guest that powers off or reboots is 0.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GuestExitIT {
    private static final String RUNTIME = "io.containerd.urunc.v2";
    private Containerd containerd;

    @BeforeAll
    void startContainerd() throws Exception {
        containerd = Containerd.start();
        Guests.importInto(containerd, "default", "hello");
    }

    @AfterAll
    void stopContainerd() {
        if (containerd != null) containerd.close();
    }

    /** {@code ctr run --rm} of the Linux test guest with {@code args} as its command, in the background. */
    private CompletableFuture<Exec.Result> run(String id, String... args) {
        List<String> cmd = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME, Guests.HELLO, id));
        cmd.addAll(List.of(args));
        return CompletableFuture.supplyAsync(() -> containerd.ctr(Duration.ofMinutes(2), cmd.toArray(String[]::new)));
    }

    private String diagnostics() {
        return "\n--- shim logs\n" + containerd.shimLogs() + "\n--- containerd\n" + containerd.log();
    }

    @Test
    void aKernelPanicReportsACrashAndAPowerOffReportsZero() throws Exception {
        var panic = run("linux-panic", "/init", "/bin/sh", "-c", "echo c > /proc/sysrq-trigger");
        var clean = run("linux-clean", "/init", "/bin/busybox", "true");
        Exec.Result p = panic.get(3, TimeUnit.MINUTES);
        assertTrue(p.stdout().contains("Kernel panic"), p.toString());
        assertEquals(255, p.exit(), p + diagnostics());
        Exec.Result c = clean.get(3, TimeUnit.MINUTES);
        assertEquals(0, c.exit(), c + diagnostics());
        assertTrue(c.stdout().contains("URUNC-GUEST: exit code 0"), c.toString());
    }

    @Test
    void aGuestThatEndsByRebootingReportsZeroAsUruncsUrunitDoes() throws Exception {
        Exec.Result r = run("linux-reboot", "/init", "/bin/busybox", "reboot", "-f").get(3, TimeUnit.MINUTES);
        assertEquals(0, r.exit(), r + diagnostics());
    }
}
