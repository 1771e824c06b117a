package io.urunc.shim.task;

import io.urunc.shim.io.TaskIo;
import io.urunc.shim.vm.Backends;
import io.urunc.shim.vm.Cgroup;
import io.urunc.shim.vm.VmProcess;
import io.urunc.sys.ChildExit;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.VmControl;
import java.lang.System.Logger.Level;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One unikernel VM as a containerd task. The VMM is launched at Create, held before the guest runs
 * where the hypervisor allows it (QEMU {@code -S}), and let go at Start: so a VMM that cannot start
 * fails Create with its own words, and Start costs only a QMP {@code cont}.
 */
public final class UnikernelTask implements Task {
    private static final System.Logger LOG = System.getLogger(UnikernelTask.class.getName());
    private static final ScheduledExecutorService TIMERS = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("kill-grace").factory());

    private final TaskSetup setup;
    private final TaskLifecycle life;
    private final Duration killGrace;
    private volatile VmProcess vmm;
    private volatile java.util.List<Backends.Running> backends = java.util.List.of();
    private volatile VmControl control;
    private volatile Integer killedWith;
    /** The cgroup's OOM kill count when the VMM was launched. */
    private volatile long oomKillsBefore;

    public UnikernelTask(TaskSetup setup, TaskEvents events, Duration killGrace) {
        this.setup = setup;
        this.life = new TaskLifecycle(setup.id(), events);
        this.killGrace = killGrace;
    }

    @Override
    public TaskLifecycle lifecycle() {
        return life;
    }

    @Override
    public TaskIo io() {
        return setup.io();
    }

    @Override
    public String id() {
        return setup.id();
    }

    @Override
    public java.nio.file.Path bundle() {
        return setup.bundle();
    }




    @Override
    public boolean terminal() {
        return setup.terminal();
    }


    @Override
    public java.util.List<Integer> pids() {
        return pid() != 0 && exitStatus().isEmpty() ? java.util.List.of(pid()) : java.util.List.of();
    }

    public TaskSetup setup() {
        return setup;
    }


    @Override
    public int pid() {
        VmProcess p = vmm;
        return p == null ? 0 : (int) p.pid();
    }



    /** Launches the VMM (held before the guest runs when the hypervisor can), at Create. */
    public void launch() throws TtrpcException {
        launch(new PhaseClock());
    }

    void launch(PhaseClock clock) throws TtrpcException {
        if (!setup.holdsBeforeStart()) return;
        startVmm(clock);
    }

    private void startVmm() throws TtrpcException {
        startVmm(new PhaseClock());
    }

    private void startVmm(PhaseClock clock) throws TtrpcException {
        VmLaunch.Ready launch = setup.launch().ready();
        startBackends(launch.plan());
        clock.mark("backends");
        VmProcess p;
        oomKillsBefore = setup.cgroup().map(Cgroup::oomKills).orElse(0L);
        try {
            p = VmProcess.launch(launch.plan(), setup.io(), launch.namespaces(), setup.cgroup());
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition(setup.hypervisor().name() + ": " + e.getMessage());
        }
        vmm = p;
        clock.mark("VMM spawn");
        // a Create that fails from here on (or a delete) must not leave the VMM running
        setup.cleanup().push("VMM " + p.pid(), () -> stopForGood(p));
        setup.persistVmm(p.identity());
        p.exit().thenAccept(status -> {
            if (vmm == p) onVmmExit(status); // not a VMM replaced at Start
        });
        if (launch.plan().controlSocket().isPresent()) {
            control = setup.awaitControl(p, launch.plan(), setup.io());
            clock.mark("control socket");
            // the control socket answers once the machine is built: the kernel and initrd are in guest memory
            launch.plan().bootFiles().forEach(UnikernelTask::deleteQuietly);
        }
    }

    /** The VMM's virtiofsds, fresh for each VMM launch (those of a VMM replaced at Start end with it). */
    private void startBackends(io.urunc.vmm.LaunchPlan plan) throws TtrpcException {
        for (Backends.Running old : backends) stopQuietly(old);
        if (plan.backends().isEmpty()) return;
        java.util.List<Backends.Running> started;
        try {
            started = Backends.start(plan.backends(), setup.cgroup());
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition("task " + id() + ": " + e.getMessage());
        }
        backends = started;
        for (Backends.Running b : started) setup.cleanup().push(b.spec().name() + " " + b.identity().pid(), b::stop);
        setup.persistBackends(started.stream().map(Backends.Running::identity).toList());
    }

    private static void stopQuietly(Backends.Running b) {
        try {
            b.stop();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "{0}", e.getMessage());
        }
    }

    private static void deleteQuietly(java.nio.file.Path file) {
        try {
            java.nio.file.Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "cannot remove {0} (the run dir goes at delete anyway): {1}", file, e.getMessage());
        }
    }

    @Override
    public synchronized int start() throws TtrpcException {
        life.apply(Transition.START);
        try {
            if (!setup.holdsBeforeStart()) startVmm();
            else if (setup.launch().replanIfStale()) replaceHeldVmm();
            life.started(pid());
            VmControl c = control;
            // A held VMM (from Create, or started again just now) is let go; one that already died is reported
            // by its exit event, after this start.
            if (setup.holdsBeforeStart() && c != null && vmm.alive()) release(c);
        } catch (IOException | TtrpcException e) {
            life.startAbandoned();
            VmProcess p = vmm;
            if (p != null && p.alive()) {
                try {
                    forceKill(p);
                } catch (IOException ignored) {
                    // already gone
                }
            }
            if (e instanceof TtrpcException t) throw t;
            throw TtrpcException.internal("cannot start task " + id() + ": " + e.getMessage());
        }
        return pid();
    }

    /** The VMM held since Create was planned without the network the task has now: start it again. */
    private void replaceHeldVmm() throws TtrpcException {
        VmProcess old = vmm;
        VmControl c = control;
        vmm = null;
        control = null;
        if (c != null) c.close();
        try {
            old.signal(io.urunc.sys.Libc.SIGKILL);
            old.exit().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw TtrpcException.internal("task " + id() + ": the VMM held since Create did not stop: " + e.getMessage());
        }
        LOG.log(Level.INFO, "task {0}: its network was configured after Create: VMM started again with it", id());
        startVmm();
    }

    /**
     * Lets the held guest run. A guest may finish before QEMU answers {@code cont} (a tiny unikernel needs
     * a few milliseconds): QEMU then closes QMP without a reply, and that is a start followed by an exit.
     */
    private void release(VmControl c) throws IOException {
        try {
            c.resume();
        } catch (IOException e) {
            try {
                vmm.exit().get(2, TimeUnit.SECONDS);
                LOG.log(Level.DEBUG, "task {0}: the guest ended before QEMU answered cont", id());
            } catch (Exception stillRunning) {
                throw e;
            }
        }
    }

    private void onVmmExit(ChildExit end) {
        Integer signal = killedWith;
        VmControl c = control;
        Optional<String> why = c == null ? Optional.empty() : c.stopReason(Duration.ofSeconds(1));
        int code = VmmExitCodes.of(end, signal, setup.hypervisor(), why);
        boolean oom = end.killed() && end.signal() == io.urunc.sys.Libc.SIGKILL && oomKilled();
        LOG.log(Level.INFO, "task {0}: VMM {1} {2}{3}{4} -> exit code {5}", id(), pid(), end,
                why.map(r -> " (" + r + ")").orElse(""), oom ? " by the OOM killer" : "", code);
        if (c != null) c.close();
        setup.io().closeOutputs();
        life.exited(pid(), code, oom);
    }

    /**
     * Whether the kernel's OOM killer killed in the task's cgroup since the VMM was launched. The kernel counts
     * the kill right after sending SIGKILL, so a victim that died at once may be seen a moment before its count.
     */
    private boolean oomKilled() {
        Optional<Cgroup> cg = setup.cgroup();
        if (cg.isEmpty()) return false;
        for (int attempt = 0; attempt < 3; attempt++) {
            if (cg.get().oomKills() > oomKillsBefore) return true;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /**
     * Start, kill, pause and resume exclude each other: a VMM that is started at Start (it cannot be held) is up,
     * with its control channel, before anything else acts on it, and a kill never misses a VMM still being launched.
     * SIGKILL stops the VMM at once. SIGTERM, SIGINT, SIGHUP and SIGQUIT ask the guest to power off
     * (ACPI through QMP) and stop the VMM after the grace period if it has not. Signal 0 only checks.
     */
    @Override
    public synchronized void kill(int signal, boolean all) throws TtrpcException {
        life.requireNotFinished();
        VmProcess p = vmm;
        if (signal == 0) return;
        if (p == null) {
            // Never launched (hypervisors that cannot be held): the task just ends.
            killedWith = signal;
            onVmmExit(ChildExit.killedBy(signal));
            return;
        }
        try {
            switch (signal) {
                case io.urunc.sys.Libc.SIGKILL -> forceKill(p);
                case 1, 2, 3, io.urunc.sys.Libc.SIGTERM -> gracefulKill(p, signal);
                default -> throw TtrpcException.invalidArgument("signal " + signal
                        + " is not supported for a unikernel task: use SIGTERM (graceful power-off) or SIGKILL");
            }
        } catch (IOException e) {
            throw TtrpcException.internal("kill task " + id() + ": " + e.getMessage());
        }
    }

    private void stopForGood(VmProcess p) throws Exception {
        if (!p.alive()) return;
        forceKill(p);
        p.exit().get(5, TimeUnit.SECONDS);
    }

    private void forceKill(VmProcess p) throws IOException {
        killedWith = io.urunc.sys.Libc.SIGKILL;
        p.signal(io.urunc.sys.Libc.SIGKILL);
    }

    /**
     * A running guest with a control channel is asked to power off; any other VMM (created and held, or without a
     * control channel: Solo5, Firecracker) gets SIGTERM itself. Either way the VMM is killed once the grace is over.
     */
    private void gracefulKill(VmProcess p, int signal) throws IOException {
        VmControl c = control;
        if (c != null && life.state() == TaskState.RUNNING) {
            try {
                c.powerdown();
            } catch (IOException e) {
                LOG.log(Level.WARNING, "task {0}: power-off request failed ({1}), stopping the VMM", id(), e.getMessage());
                forceKill(p);
                return;
            }
        } else {
            // the task reports the signal that was asked for
            killedWith = signal;
            p.signal(io.urunc.sys.Libc.SIGTERM);
        }
        killAfterGrace(p);
    }

    private void killAfterGrace(VmProcess p) {
        TIMERS.schedule(() -> {
            if (p.alive()) {
                LOG.log(Level.INFO, "task {0}: VMM still runs {1} after the stop request, killing it", id(), killGrace);
                try {
                    forceKill(p);
                } catch (IOException e) {
                    LOG.log(Level.WARNING, "task {0}: kill failed: {1}", id(), e.getMessage());
                }
            }
        }, killGrace.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void pause() throws TtrpcException {
        life.pause(requireControl("pause")::pause);
    }

    @Override
    public synchronized void resume() throws TtrpcException {
        life.resume(requireControl("resume")::resume);
    }

    private VmControl requireControl(String what) throws TtrpcException {
        VmControl c = control;
        if (c == null) {
            throw TtrpcException.failedPrecondition("cannot " + what + " task " + id() + ": hypervisor "
                    + setup.hypervisor().name() + " offers no control channel");
        }
        return c;
    }

    /**
     * Delete: only a created or stopped task. A created task's held VMM is killed first, and it reports what
     * containerd's runc shim reports for a created container: exit 137, with its TaskExit. Everything set up for
     * the task is released.
     */
    @Override
    public ExitStatus delete() throws TtrpcException {
        life.apply(Transition.DELETE);
        VmProcess p = vmm;
        if (p == null) {
            killedWith = io.urunc.sys.Libc.SIGKILL;
            life.exited(0, 128 + io.urunc.sys.Libc.SIGKILL);
        } else {
            try {
                if (p.alive()) forceKill(p);
                // the task's exit, not just the process's: onVmmExit records it
                life.exitFuture().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.log(Level.WARNING, "task {0}: VMM {1} did not stop: {2}", id(), p.pid(), e.getMessage());
            }
        }
        setup.cleanup().close();
        return life.exitStatus().orElse(new ExitStatus(128 + io.urunc.sys.Libc.SIGKILL, Instant.now()));
    }

    /** Stats of the VMM's cgroup, if it has one. */
    @Override
    public Optional<Cgroup> cgroup() {
        return setup.cgroup();
    }

    @Override
    public ExecProcess addExec(io.urunc.proto.task.ExecProcessRequest request) throws TtrpcException {
        throw TtrpcException.unimplemented("exec is not supported: a unikernel runs a single application and has no"
                + " second process to start");
    }

    @Override
    public ExecProcess exec(String execId) throws TtrpcException {
        throw TtrpcException.notFound("process " + execId + " not found: unikernel tasks have no exec processes");
    }
}
