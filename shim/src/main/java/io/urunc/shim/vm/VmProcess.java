package io.urunc.shim.vm;

import io.urunc.shim.io.TaskIo;
import io.urunc.sys.ChildExit;
import io.urunc.sys.HostNamespaces;
import io.urunc.sys.Libc;
import io.urunc.sys.Spawn;
import io.urunc.sys.SysException;
import io.urunc.vmm.LaunchPlan;

import java.lang.System.Logger.Level;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A running VMM process, started by the daemon itself ({@link Spawn}) and waited for through its pidfd on a
 * thread of its own: its end is known as the kernel reports it, an exit code or the signal that killed it (the
 * JDK's {@code Process} would fold a SIGKILL into 137, which a QEMU guest can also exit with). Under a wrapper that
 * forks it ({@code unshare --pid --fork}), the wrapper's own end says little (util-linux 2.38 turns a child's
 * SIGKILL into its own exit 1), so the VMM is held by a pidfd of its own from the moment it is forked, and its end
 * is read from that pidfd (Linux 6.15+), or waited for if the wrapper died first and left it to us (the subreaper).
 * Signals go to the VMM itself, never to a wrapper in front of it, and only through pidfds, so a pid that was
 * reused is never hit.
 */
public final class VmProcess {
    private static final System.Logger LOG = System.getLogger(VmProcess.class.getName());
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** How long a forking wrapper may take to fork the VMM (it takes milliseconds). */
    private static final long FORK_WAIT_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);

    private final int pid;
    private final ProcessIdentity identity;
    private final CompletableFuture<ChildExit> exit = new CompletableFuture<>();
    /** True once the VMM under a forking wrapper is held by its own pidfd; false if it never was. */
    private final CompletableFuture<Boolean> forkedVmmHeld = new CompletableFuture<>();

    private VmProcess(Spawn.Child child, boolean wrapperForks) {
        this.pid = child.pid();
        this.identity = ProcessIdentity.of(pid).orElse(new ProcessIdentity(pid, 0, ""));
        Thread.ofPlatform().daemon().stackSize(256 * 1024).name("vmm-wait-" + pid)
                .start(() -> await(child.pidfd(), wrapperForks));
    }

    private void await(int pidfd, boolean wrapperForks) {
        int vmmPidfd = wrapperForks ? openForkedVmm() : -1;
        forkedVmmHeld.complete(vmmPidfd >= 0);
        ChildExit end;
        try {
            end = Libc.waitPidfdExit(pidfd);
        } catch (SysException e) {
            // ECHILD: someone else reaped it and its status is lost; what containerd reports for a lost process
            LOG.log(Level.WARNING, "VMM {0}: its exit status is lost: {1}", pid, e.getMessage());
            end = ChildExit.exited(255);
        } finally {
            Libc.close(pidfd);
        }
        if (vmmPidfd >= 0) {
            try {
                end = vmmEnd(vmmPidfd, end);
            } finally {
                Libc.close(vmmPidfd);
            }
        }
        exit.complete(end);
    }

    /**
     * The forked VMM's own end, once its wrapper ended as {@code wrapperEnd}: read from its pidfd after its wrapper
     * reaped it, or waited for when the wrapper died first (the VMM is then the daemon's, the subreaper's). The
     * wrapper's end when neither can tell (a kernel before 6.15).
     */
    private ChildExit vmmEnd(int vmmPidfd, ChildExit wrapperEnd) {
        Optional<ChildExit> reaped = Libc.pidfdExitInfo(vmmPidfd);
        if (reaped.isPresent()) return reaped.get();
        try {
            return Libc.waitPidfdExit(vmmPidfd);
        } catch (SysException e) {
            LOG.log(Level.DEBUG, "VMM under {0}: its own end is unknown ({1}), the wrapper {2}", pid, e.getMessage(), wrapperEnd);
            return wrapperEnd;
        }
    }

    /** A pidfd on the VMM a wrapper forks, as soon as it has; -1 if the wrapper ends (or never forks) first. */
    private int openForkedVmm() {
        long deadline = System.nanoTime() + FORK_WAIT_NANOS;
        while (System.nanoTime() < deadline) {
            Optional<io.urunc.shim.runc.ProcStat> st = io.urunc.shim.runc.ProcStat.read(pid);
            if (st.isEmpty() || st.get().zombie()) return -1;
            ProcessIdentity vmm = VmmLookup.vmmUnder(identity);
            if (!vmm.equals(identity)) {
                try {
                    int fd = Libc.pidfdOpen((int) vmm.pid());
                    if (vmm.alive()) return fd;
                    Libc.close(fd);
                } catch (SysException e) {
                    // gone already: the wrapper's end is all there is
                    return -1;
                }
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                return -1;
            }
        }
        LOG.log(Level.WARNING, "VMM wrapper {0} did not fork the VMM within {1} s", pid, FORK_WAIT_NANOS / 1_000_000_000);
        return -1;
    }

    /** The container's namespaces for the VMM: a command in front of its command line enters them. */
    @FunctionalInterface
    public interface NamespaceEntry {
        /** The command that starts {@code argv} in these namespaces. */
        java.util.List<String> wrap(java.util.List<String> argv);

        /** Whether the command in front forks the VMM (a new pid namespace): the VMM is then its child, not ours. */
        default boolean forks() {
            return false;
        }

        NamespaceEntry HOST = argv -> argv;
    }

    /**
     * The VMM joins its cgroup before it runs (a helper in front may fork it at once, so moving the
     * started pid afterwards would leave the VMM outside): a shell writes its own pid, then execs.
     */
    static final String CGROUP_JOIN =
            "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 126; shift; done; shift; exec \"$@\"";

    static java.util.List<String> inCgroup(java.util.Optional<Cgroup> cgroup, java.util.List<String> argv) {
        if (cgroup.isEmpty() || cgroup.get().procsFiles().isEmpty()) return argv;
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("/bin/sh", "-c", CGROUP_JOIN, "cgroup-join"));
        cgroup.get().procsFiles().forEach(f -> cmd.add(f.toString()));
        cmd.add("--");
        cmd.addAll(argv);
        return cmd;
    }

    /**
     * The files the shim opened for the VMM ({@link LaunchPlan#inheritedFiles}) on their descriptor numbers: a shell
     * right in front of the VMM re-opens each {@code /proc/<shim>/fd/<n>}, which gives the very file the shim opened
     * (the spawn passes only stdio), then execs the VMM.
     */
    static java.util.List<String> withInheritedFiles(Map<Integer, LaunchPlan.InheritedFile> files, java.util.List<String> argv) {
        if (files.isEmpty()) return argv;
        StringBuilder script = new StringBuilder("exec");
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("/bin/sh", "-c", "", "inherit-fds"));
        int arg = 1;
        for (Map.Entry<Integer, LaunchPlan.InheritedFile> f : new java.util.TreeMap<>(files).entrySet()) {
            script.append(' ').append(f.getKey()).append(f.getValue().writable() ? "<>" : "<").append("\"${").append(arg++).append("}\"");
            cmd.add(f.getValue().openedAs().toString());
        }
        script.append(" || exit 126; shift ").append(files.size()).append("; exec \"$@\"");
        cmd.set(2, script.toString());
        cmd.addAll(argv);
        return cmd;
    }

    public static VmProcess launch(LaunchPlan plan, TaskIo io, NamespaceEntry namespaces, java.util.Optional<Cgroup> cgroup)
            throws IOException {
        for (Map.Entry<Path, String> f : plan.filesToWrite().entrySet()) {
            Files.writeString(f.getKey(), f.getValue());
            Files.setPosixFilePermissions(f.getKey(), PosixFilePermissions.fromString("rw-------"));
        }
        // The VMM gets a clean environment: nothing of the shim's leaks into it.
        HostNamespaces.requireOnHost("the VMM");
        Spawn.Child child;
        try {
            child = Spawn.spawn(inCgroup(cgroup, namespaces.wrap(withInheritedFiles(plan.inheritedFiles(), plan.argv()))), Map.of("PATH", PATH),
                    path(io.stdinRedirect()), path(io.stdoutRedirect()));
        } catch (SysException e) {
            throw new IOException("cannot execute " + plan.argv().getFirst() + ": " + e.getMessage(), e);
        }
        try {
            io.pumpStderr(child.stderr());
            return new VmProcess(child, namespaces.forks());
        } catch (OutOfMemoryError noThread) {
            // no thread to wait for it or read its stderr: the VMM must not run unwatched
            try {
                Libc.pidfdSendSignal(child.pidfd(), Libc.SIGKILL);
                Libc.waitPidfdExit(child.pidfd());
            } catch (SysException ignored) {
                // gone already
            }
            Libc.close(child.pidfd());
            throw new IOException("cannot watch " + plan.argv().getFirst() + ": " + noThread.getMessage(), noThread);
        }
    }

    private static String path(ProcessBuilder.Redirect r) {
        return r.file() == null ? "/dev/null" : r.file().getPath();
    }

    public long pid() {
        return pid;
    }

    public boolean alive() {
        return !exit.isDone();
    }

    /** How the launched process (the VMM, or the wrapper in front of it, which ends as the VMM did) ended. */
    public CompletableFuture<ChildExit> exit() {
        return exit;
    }

    /**
     * Completes once the VMM under a forking wrapper is held by its own pidfd (true), or cannot be (false: it
     * ended first, or there is no such wrapper); from then on its end is known exactly.
     */
    public CompletableFuture<Boolean> forkedVmmHeld() {
        return forkedVmmHeld;
    }

    /** The launched process as the task record names it (the wrapper, when there is one). */
    public ProcessIdentity identity() {
        return identity;
    }

    /**
     * Sends {@code signal} to the VMM. A wrapper that forks the VMM ({@code unshare --fork}) blocks SIGTERM and
     * would swallow it, so the signal goes to the process the wrapper runs; until that one exists, to the wrapper.
     */
    public void signal(int signal) throws IOException {
        if (!alive()) return;
        ProcessIdentity target = VmmLookup.vmmUnder(identity);
        if (!target.signal(signal) && !target.equals(identity)) identity.signal(signal);
    }
}
