package io.urunc.shim;

import io.urunc.network.UnikernelNetwork;
import io.urunc.proto.task.DeleteResponse;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.netns.OwnNetworkNamespace;
import io.urunc.shim.runc.RuncLeftovers;
import io.urunc.shim.task.TaskLocks;
import io.urunc.shim.task.TaskRecord;
import io.urunc.shim.task.TaskStore;
import io.urunc.shim.task.Timestamps;
import io.urunc.shim.vm.ProcessIdentity;
import io.urunc.shim.vm.VmmLookup;
import io.urunc.storage.FileTrees;
import io.urunc.storage.RootfsMount;
import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code containerd-shim-urunc-v2 delete}: containerd runs it after every task deletion and when a
 * shim died. It releases what the task record names (VMM process, rootfs mount, run dir, cgroup) and
 * is idempotent; it never touches the daemon, which may serve other tasks. Prints only a DeleteResponse.
 */
final class DeleteCommand {
    private DeleteCommand() {}

    /** How long a delete waits for a Create of the same task in the daemon (it rolls back if containerd gave up). */
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(60);

    static DeleteResponse run(ShimArgs args, ShimConfig config) throws IOException {
        DeleteResponse response;
        try (TaskLocks.Held ignored = new TaskLocks(config.stateDir()).acquire(args.namespace(), args.id(), LOCK_TIMEOUT)) {
            response = release(args, config);
        }
        removeDeadDaemonSocket(Path.of(args.bundle()).toAbsolutePath(), config.stateDir());
        return response;
    }

    /**
     * After a daemon crash its socket file (and pid file) would stay for good, unless a daemon of the same group
     * comes again: removed here when nobody listens on it. Decided under the group's lock, which a daemon holds
     * from its check to its bind, so a socket of a daemon that is starting is never taken for a dead one. The
     * socket is the one {@code start} wrote into the bundle's {@code address}; only a name of ours is accepted.
     */
    static void removeDeadDaemonSocket(Path bundle, Path stateDir) {
        DaemonAddress daemon;
        try {
            Optional<DaemonAddress> ours = DaemonAddress.fromUri(Files.readString(bundle.resolve("address")).strip(), stateDir);
            if (ours.isEmpty()) return;
            daemon = ours.get();
        } catch (IOException | RuntimeException e) {
            return;
        }
        Path socket = daemon.socket();
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS) || !Files.isDirectory(daemon.lockFile().getParent())) return;
        try (DaemonAddress.GroupLock ignored = daemon.lockGroup()) {
            if (StartCommand.connectable(socket)) return;
            Files.deleteIfExists(socket);
            Files.deleteIfExists(daemon.pidFile());
        } catch (IOException e) {
            System.err.println("remove the dead daemon's socket " + socket + ": " + e.getMessage());
        }
    }

    private static DeleteResponse release(ShimArgs args, ShimConfig config) throws IOException {
        TaskStore store = new TaskStore(config.stateDir());
        Optional<TaskRecord> record = store.load(args.namespace(), args.id());
        // containerd runs delete in the bundle and names it with -bundle
        Path bundle = Path.of(args.bundle()).toAbsolutePath();
        if (record.isPresent()) {
            RecordPaths.check(record.get(), store.file(args.namespace(), args.id()), config.stateDir(), bundle);
        }
        long pid = record.map(TaskRecord::vmmPid).orElse(0L);
        // An ordinary container delegated to runc: `runc delete --force` (kills its processes), unmount.
        long runcPid = RuncLeftovers.delete(config.stateDir(), args.namespace(), args.id(), System.err);
        if (pid == 0) pid = runcPid;
        record.ifPresent(r -> {
            killVmm(r.vmm());
            // virtiofsd ends when the VMM closes its socket; one that has not yet is stopped here
            for (ProcessIdentity b : r.backends()) killVmm(b);
            if (!r.rootfsMount().isEmpty()) {
                try {
                    RootfsMount.unmountIfMounted(Path.of(r.rootfsMount()));
                } catch (IOException e) {
                    System.err.println("unmount " + r.rootfsMount() + ": " + e.getMessage());
                }
            }
            if (!r.netns().isEmpty()) UnikernelNetwork.detachByContainerId(Path.of(r.netns()), r.id());
            // a namespace the shim made for the task (docker's new netns)
            if (!r.ownNetns().isEmpty()) OwnNetworkNamespace.remove(Path.of(r.ownNetns()));
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

    /**
     * Kills the recorded VMM if that very process still runs: same pid, start time and boot. After a daemon crash
     * the pid may have been given to another tenant's process, which must live.
     */
    private static void killVmm(ProcessIdentity recorded) {
        if (recorded.pid() <= 0 || recorded.startTime() <= 0) return;
        // the kernel clears a child's parent-death signal when it changes credentials (QEMU -runas): a VMM behind
        // an unshare wrapper does not die with the wrapper, so it is killed itself
        ProcessIdentity vmm = VmmLookup.vmmUnder(recorded);
        try {
            if (!vmm.equals(recorded)) vmm.signal(Libc.SIGKILL);
            if (!recorded.signal(Libc.SIGKILL)) return;
        } catch (SysException e) {
            System.err.println("kill VMM " + recorded.pid() + ": " + e.getMessage());
            return;
        }
        for (int i = 0; i < 50 && (vmm.alive() || recorded.alive()); i++) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
