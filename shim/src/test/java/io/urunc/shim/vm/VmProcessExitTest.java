package io.urunc.shim.vm;

import io.urunc.shim.io.TaskIo;
import io.urunc.sys.ChildExit;
import io.urunc.sys.Libc;
import io.urunc.sys.NamespaceCommands;
import io.urunc.vmm.LaunchPlan;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * How a VMM ended, as the shim sees it, with real processes: a SIGKILL from outside (the OOM killer, kill -9) is a
 * death by signal 9 and an exit with 137 is an exit, also under the {@code unshare --pid --fork} the shim puts in
 * front of a VMM (which itself turns its child's SIGKILL into an exit 1).
 */
class VmProcessExitTest {
    private static final VmProcess.NamespaceEntry OWN_PID_NAMESPACE = new VmProcess.NamespaceEntry() {
        public List<String> wrap(List<String> argv) {
            return NamespaceCommands.wrap(Map.of(), List.of(), true, argv);
        }

        public boolean forks() {
            return true;
        }
    };

    private static VmProcess launch(VmProcess.NamespaceEntry ns, String... argv) throws Exception {
        return VmProcess.launch(new LaunchPlan(List.of(argv), Map.of(), Optional.empty()), TaskIo.open("", "", ""), ns,
                Optional.empty());
    }

    private static ChildExit end(VmProcess p) throws Exception {
        return p.exit().get(10, TimeUnit.SECONDS);
    }

    /** The VMM under its wrapper, once forked and held by the shim. */
    private static ProcessIdentity vmmOf(VmProcess p) throws Exception {
        assertTrue(p.forkedVmmHeld().get(10, TimeUnit.SECONDS), "the shim holds the VMM under the wrapper");
        for (int i = 0; i < 500; i++) {
            ProcessIdentity vmm = VmmLookup.vmmUnder(p.identity());
            if (!vmm.equals(p.identity()) && readComm(vmm.pid()).equals("sleep")) {
                return vmm;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("the wrapper never ran the VMM");
    }

    private static String readComm(long pid) {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/comm")).strip();
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void aVmmStartedDirectlyThatIsKilledIsNotOneThatExited137() throws Exception {
        assertEquals(ChildExit.killedBy(9), end(launch(VmProcess.NamespaceEntry.HOST, "/bin/sh", "-c", "kill -9 $$")));
        assertEquals(ChildExit.exited(137), end(launch(VmProcess.NamespaceEntry.HOST, "/bin/sh", "-c", "exit 137")));
    }

    @Test
    void aVmmUnderItsPidNamespaceWrapperKilledFromOutsideIsKilledBySignal9() throws Exception {
        VmProcess p = launch(OWN_PID_NAMESPACE, "/bin/sleep", "60");
        ProcessIdentity vmm = vmmOf(p);
        assertNotEquals(p.pid(), vmm.pid(), "the VMM is the wrapper's child");
        Libc.kill((int) vmm.pid(), Libc.SIGKILL); // as the OOM killer would: not through the shim
        assertEquals(ChildExit.killedBy(9), end(p));
    }

    @Test
    void aVmmUnderItsPidNamespaceWrapperThatExits137Exited137() throws Exception {
        assertEquals(ChildExit.exited(137), end(launch(OWN_PID_NAMESPACE, "/bin/sh", "-c", "sleep 0.2; exit 137")));
        assertEquals(ChildExit.exited(3), end(launch(OWN_PID_NAMESPACE, "/bin/sh", "-c", "exit 3")),
                "a VMM that ends before the shim holds it reports the wrapper's end, the same here");
    }

    /** The daemon is its children's subreaper: a VMM whose wrapper died is left to it, and reaped by its waiter. */
    @Test
    void aVmmWhoseWrapperIsKilledEndsWithItAndIsReaped() throws Exception {
        Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1);
        try {
            VmProcess p = launch(OWN_PID_NAMESPACE, "/bin/sleep", "60");
            ProcessIdentity vmm = vmmOf(p);
            Libc.kill((int) p.pid(), Libc.SIGKILL); // the wrapper: --kill-child takes the VMM along
            assertEquals(ChildExit.killedBy(9), end(p));
            assertFalse(vmm.alive(), "the VMM is gone, not left a zombie of the daemon");
        } finally {
            Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 0);
        }
    }
}
