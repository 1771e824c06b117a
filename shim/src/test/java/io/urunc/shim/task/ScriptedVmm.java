package io.urunc.shim.task;

import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.VmProcess;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Unikernel tasks whose "VMM" is a shell script, started as the shim starts VMMs: under {@code unshare --pid --fork}. */
final class ScriptedVmm {
    /** Stops on SIGTERM, as QEMU does. */
    static final String STOPS_ON_TERM = "trap 'exit 0' TERM; while :; do sleep 0.05; done";
    /** Ignores SIGTERM, as a VMM without a handler does when it is pid 1 of its namespace. */
    static final String IGNORES_TERM = "trap '' TERM; while :; do sleep 0.05; done";

    private ScriptedVmm() {}

    static final VmProcess.NamespaceEntry OWN_PID_NAMESPACE = new VmProcess.NamespaceEntry() {
        public List<String> wrap(List<String> argv) {
            return io.urunc.sys.NamespaceCommands.wrap(Map.of(), List.of(), true, argv);
        }

        public boolean forks() {
            return true;
        }
    };

    static final Hypervisor FAKE = new Hypervisor() {
        public String name() {
            return "fake";
        }

        public String defaultBinary() {
            return "/bin/sh";
        }

        public LaunchPlan plan(VmConfig config) {
            throw new UnsupportedOperationException();
        }

        public int containerExitCode(int status) {
            return status;
        }

        public Optional<VmControl> control(LaunchPlan plan) {
            return Optional.empty();
        }
    };

    /** A control channel that accepts every request and does nothing (the guest never powers off). */
    static final VmControl DEAF = new VmControl() {
        public void pause() {}

        public void resume() {}

        public void powerdown() {}

        public void close() {}
    };

    /**
     * A created task. {@code held}: a VMM with a control channel, launched at Create and held until Start (QEMU -S);
     * otherwise the VMM starts at Start (Solo5, Firecracker).
     */
    static UnikernelTask create(String id, Path dir, String script, boolean held, Duration grace, TaskEvents events,
                                Cleanup cleanup) throws Exception {
        LaunchPlan plan = new LaunchPlan(List.of("/bin/sh", "-c", script), Map.of(),
                held ? Optional.of(dir.resolve(id + ".ctl")) : Optional.empty(), List.of(), held, List.of(), Map.of());
        VmLaunch launch = VmLaunch.of(() -> new VmLaunch.Ready(plan, OWN_PID_NAMESPACE));
        TaskSetup setup = new TaskSetup(id, "default", dir, false, FAKE, launch, TaskIo.open("", "", ""),
                Optional.empty(), cleanup, vmm -> {}, backends -> {}, (h, p, v, io) -> DEAF);
        UnikernelTask t = new UnikernelTask(setup, events, grace);
        t.launch();
        return t;
    }
}
