package io.urunc.shim.task;

import io.urunc.sys.ChildExit;
import io.urunc.vmm.qemu.QemuHypervisor;
import io.urunc.vmm.solo5.Solo5Hypervisor;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class VmmExitCodesTest {
    private static final QemuHypervisor QEMU = new QemuHypervisor();

    private static int qemu(ChildExit end, Integer killedWith, String reason) {
        return VmmExitCodes.of(end, killedWith, QEMU, Optional.ofNullable(reason));
    }

    @Test
    void aQemuKilledFromOutsideIs137NotTheGuestCode68ThatExits137() {
        assertEquals(137, qemu(ChildExit.killedBy(9), null, null));
        assertEquals(68, qemu(ChildExit.exited(137), null, null), "isa-debug-exit 68 is QEMU status 2*68+1");
        assertEquals(134, qemu(ChildExit.killedBy(6), null, null), "a QEMU that aborted");
    }

    @Test
    void theQemuMappingStaysAsItWas() {
        assertEquals(0, qemu(ChildExit.exited(0), null, "guest-shutdown"));
        assertEquals(0, qemu(ChildExit.exited(0), null, "guest-reset"));
        assertEquals(255, qemu(ChildExit.exited(0), null, "guest-panic"));
        assertEquals(143, qemu(ChildExit.exited(0), null, "host-signal"));
        assertEquals(7, qemu(ChildExit.exited(15), null, null));
        assertEquals(1, qemu(ChildExit.exited(1), null, null), "QEMU's own error");
    }

    @Test
    void aSignalTheShimSentIsTheTasksCodeWhateverTheVmmMadeOfIt() {
        assertEquals(137, qemu(ChildExit.killedBy(9), 9, null));
        assertEquals(143, qemu(ChildExit.exited(0), 15, "host-signal"));
        assertEquals(143, qemu(ChildExit.exited(1), 15, null), "hvt exits 1 on SIGTERM");
    }

    @Test
    void solo5PassesTheTendersStatusThroughButNotASignal() {
        Solo5Hypervisor hvt = Solo5Hypervisor.hvt();
        assertEquals(137, VmmExitCodes.of(ChildExit.killedBy(9), null, hvt, Optional.empty()));
        assertEquals(137, VmmExitCodes.of(ChildExit.exited(137), null, hvt, Optional.empty()), "solo5_exit(137)");
        assertEquals(255, VmmExitCodes.of(ChildExit.exited(255), null, hvt, Optional.empty()), "solo5_abort");
    }
}
