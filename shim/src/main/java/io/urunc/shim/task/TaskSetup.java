package io.urunc.shim.task;

import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.Cgroup;
import io.urunc.shim.vm.VmProcess;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmControl;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongConsumer;

/** Everything prepared at Create for one task: what to launch, where its stdio goes, what to undo. */
public record TaskSetup(
        String id,
        String namespace,
        Path bundle,
        boolean terminal,
        Hypervisor hypervisor,
        LaunchPlan plan,
        TaskIo io,
        Optional<Cgroup> cgroup,
        VmProcess.NamespaceEntry namespaces,
        Cleanup cleanup,
        LongConsumer pidRecorder,
        ControlConnector controlConnector) {

    /** Connects to the VMM's control channel once it is up; fails with the VMM's own error if it died. */
    @FunctionalInterface
    public interface ControlConnector {
        VmControl connect(Hypervisor hypervisor, LaunchPlan plan, VmProcess vmm, TaskIo io) throws TtrpcException;
    }

    /** Whether the VMM is started at Create, with the guest held until Start. */
    public boolean holdsBeforeStart() {
        return plan.guestHeld();
    }

    void persistPid(long pid) {
        pidRecorder.accept(pid);
    }

    VmControl awaitControl(VmProcess vmm, TaskIo io) throws TtrpcException {
        return controlConnector.connect(hypervisor, plan, vmm, io);
    }
}
