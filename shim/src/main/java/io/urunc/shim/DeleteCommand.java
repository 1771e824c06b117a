package io.urunc.shim;

import io.urunc.network.UnikernelNetwork;
import io.urunc.proto.task.DeleteResponse;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.netns.OwnNetworkNamespace;
import io.urunc.shim.runc.RuncLeftovers;
import io.urunc.shim.task.TaskRecord;
import io.urunc.shim.task.TaskStore;
import io.urunc.shim.task.Timestamps;
import io.urunc.shim.vm.VmmPids;
import io.urunc.storage.FileTrees;
import io.urunc.storage.RootfsMount;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@code containerd-shim-urunc-v2 delete}: containerd runs it after every task deletion and when a
 * shim died. It releases what the task record names (VMM process, rootfs mount, run dir, cgroup) and
 * is idempotent; it never touches the daemon, which may serve other tasks. Prints only a DeleteResponse.
 */
final class DeleteCommand {
    private static final List<String> VMM_NAMES = List.of("qemu-system", "firecracker", "solo5-hvt", "solo5-spt",
            "cloud-hypervisor");

    private DeleteCommand() {}

    static DeleteResponse run(ShimArgs args, ShimConfig config) {
        TaskStore store = new TaskStore(config.stateDir());
        Optional<TaskRecord> record = store.load(args.namespace(), args.id());
        long pid = record.map(TaskRecord::vmmPid).orElse(0L);
        // An ordinary container delegated to runc: `runc delete --force` (kills its processes), unmount.
        long runcPid = RuncLeftovers.delete(config.stateDir(), args.namespace(), args.id(), System.err);
        if (pid == 0) pid = runcPid;
        record.ifPresent(r -> {
            killVmm(r.vmmPid());
            if (!r.rootfsMount().isEmpty()) {
                try {
                    RootfsMount.unmountIfMounted(Path.of(r.rootfsMount()));
                } catch (IOException e) {
                    System.err.println("unmount " + r.rootfsMount() + ": " + e.getMessage());
                }
            }
            if (!r.netns().isEmpty()) UnikernelNetwork.detachByContainerId(Path.of(r.netns()), r.id());
            // a namespace the shim made for the task (docker's new netns); records from older versions lack it
            if (r.ownNetns() != null && !r.ownNetns().isEmpty()) OwnNetworkNamespace.remove(Path.of(r.ownNetns()));
            try {
                FileTrees.delete(Path.of(r.runDir()));
            } catch (IOException e) {
                System.err.println("remove " + r.runDir() + ": " + e.getMessage());
            }
            store.remove(args.namespace(), args.id());
        });
        return DeleteResponse.newBuilder().setPid((int) pid).setExitStatus(128 + Libc.SIGKILL)
                .setExitedAt(Timestamps.of(Instant.now())).build();
    }

    /** Kills the recorded VMM, if that pid still is a VMM (pids get reused). */
    private static void killVmm(long pid) {
        if (pid <= 0) return;
        String cmdline;
        try {
            cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return;
        }
        if (VMM_NAMES.stream().noneMatch(cmdline::contains)) return;
        try {
            long vmm = VmmPids.vmm(pid);
            if (vmm != pid) Libc.kill((int) vmm, Libc.SIGKILL);
            Libc.kill((int) pid, Libc.SIGKILL);
        } catch (SysException ignored) {
            return;
        }
        for (int i = 0; i < 50 && Files.exists(Path.of("/proc/" + pid)); i++) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
