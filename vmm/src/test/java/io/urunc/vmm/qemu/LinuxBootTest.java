package io.urunc.vmm.qemu;

import io.urunc.vmm.Accelerator;
import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.Hypervisors;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.UnikernelType;
import io.urunc.vmm.UnikernelTypes;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** Boots the Debian cloud kernel on microvm/TCG with what the linux type and the QEMU adapter produce. */
class LinuxBootTest {
    @Test
    void guestSeesArgsEnvAndNetworkAndItsExitCodeBecomesTheContainers(@TempDir Path dir) throws Exception {
        Path kernel = TestGuest.kernel();
        Path initrd = TestGuest.initrd(dir, """
                #!/bin/busybox sh
                echo "ARGS[$1][$2] GREETING[$GREETING] IP[$ip]"
                /bin/guest-exit 7
                """);
        UnikernelType linux = UnikernelTypes.byName("linux");
        Hypervisor qemu = Hypervisors.byName("qemu");
        var guest = new GuestSpec(List.of("/init", "two words", "x"), Map.of("GREETING", "hello world"),
                Optional.of(new GuestNetwork("10.0.0.2", 24, "10.0.0.1", "02:00:00:00:00:01", List.of())), RootKind.INITRD, null);
        VmConfig config = new VmConfig("boot", QemuRealTest.QEMU, kernel, Optional.of(initrd), linux.kernelCmdline(guest, "qemu", Accelerator.TCG),
                new VmResources(256, 1), Accelerator.TCG, Optional.empty(), List.of(), linux.extraVmmArgs("qemu", guest), dir, true)
                .withHints(linux.deviceHints());
        LaunchPlan plan = qemu.plan(config);
        long t0 = System.nanoTime();
        try (RunningQemu q = new RunningQemu(plan.argv(), dir)) {
            int status = q.await(40);
            String out = q.output();
            assertTrue(out.contains("ARGS[two words][x] GREETING[hello world] IP[10.0.0.2::10.0.0.1:255.255.255.0:urunc:eth0:off]"), out);
            assertEquals(15, status, out);
            assertEquals(7, qemu.containerExitCode(status));
            System.out.printf("linux boot to exit on microvm/TCG: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        }
    }
}
