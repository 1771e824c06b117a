package io.urunc.shim.task;

import io.urunc.sys.ChildExit;
import io.urunc.vmm.Hypervisor;

import java.util.Optional;

/** The container exit code of a unikernel task from how its VMM ended. */
final class VmmExitCodes {
    private VmmExitCodes() {}

    /**
     * A signal the shim sent to stop the task is its code (128 + signal), whatever the VMM made of it. A VMM killed
     * by someone else's signal (the OOM killer's SIGKILL, a kill -9) is 128 + that signal: never read as a guest's
     * code, which the hypervisor decodes from an exit ({@link Hypervisor#containerExitCode(int, Optional)}).
     */
    static int of(ChildExit end, Integer killedWith, Hypervisor hypervisor, Optional<String> stopReason) {
        if (killedWith != null) return 128 + killedWith;
        if (end.killed()) return 128 + end.signal();
        return hypervisor.containerExitCode(end.code(), stopReason);
    }
}
