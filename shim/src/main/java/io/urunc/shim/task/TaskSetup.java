package io.urunc.shim.task;

import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.Cgroup;
import io.urunc.shim.vm.ProcessIdentity;
import io.urunc.shim.vm.VmProcess;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmControl;

import java.nio.file.Path;
import java.util.Optional;

/** Everything prepared at Create for one task: what to launch, where its stdio goes, what to undo. */
public record TaskSetup(
        String id,
        String namespace,
        Path bundle,
        boolean terminal,
        Hypervisor hypervisor,
        VmLaunch launch,
        TaskIo io,
        Optional<Cgroup> cgroup,
        Cleanup cleanup,
        VmmRecorder vmmRecorder,
        BackendRecorder backendRecorder,
        ControlConnector controlConnector) {

    /** Connects to the VMM's control channel once it is up; fails with the VMM's own error if it died. */
    @FunctionalInterface
    public interface ControlConnector {
        VmControl connect(Hypervisor hypervisor, LaunchPlan plan, VmProcess vmm, TaskIo io) throws TtrpcException;
    }

    /** Writes the launched VMM into the task record; a failure fails the launch. */
    @FunctionalInterface
    public interface VmmRecorder {
        void record(ProcessIdentity vmm) throws java.io.IOException;
    }

    /** Writes the VMM's running backends (virtiofsd) into the task record; a failure fails the launch. */
    @FunctionalInterface
    public interface BackendRecorder {
        void record(java.util.List<ProcessIdentity> backends) throws java.io.IOException;
    }

    /** Whether the VMM is started at Create, with the guest held until Start. */
    public boolean holdsBeforeStart() {
        return launch.ready().plan().guestHeld();
    }

    void persistVmm(ProcessIdentity vmm) throws TtrpcException {
        try {
            vmmRecorder.record(vmm);
        } catch (java.io.IOException e) {
            throw TtrpcException.internal("task " + id + ": cannot record its VMM: " + e.getMessage());
        }
    }

    void persistBackends(java.util.List<ProcessIdentity> backends) throws TtrpcException {
        try {
            backendRecorder.record(backends);
        } catch (java.io.IOException e) {
            throw TtrpcException.internal("task " + id + ": cannot record its VMM's backends: " + e.getMessage());
        }
    }

    VmControl awaitControl(VmProcess vmm, LaunchPlan plan, TaskIo io) throws TtrpcException {
        return controlConnector.connect(hypervisor, plan, vmm, io);
    }
}
