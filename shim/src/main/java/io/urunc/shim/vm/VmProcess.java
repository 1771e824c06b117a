package io.urunc.shim.vm;

import io.urunc.shim.io.TaskIo;
import io.urunc.sys.HostNamespaces;
import io.urunc.vmm.LaunchPlan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A running VMM process. Its exit is observed through the JDK's own reaper (never a wait on -1), and
 * reported as the raw status: the exit code, or 128+signal. Signals go to the VMM itself, never to a wrapper in
 * front of it, and only through pidfds, so a pid that was reused is never hit.
 */
public final class VmProcess {
    private final Process process;
    private final ProcessIdentity identity;
    private final CompletableFuture<Integer> exit;

    private VmProcess(Process process) {
        this.process = process;
        this.identity = ProcessIdentity.of(process.pid()).orElse(new ProcessIdentity(process.pid(), 0, ""));
        this.exit = process.onExit().thenApply(Process::exitValue);
    }

    /** The container's namespaces for the VMM: a command in front of its command line enters them. */
    @FunctionalInterface
    public interface NamespaceEntry {
        /** The command that starts {@code argv} in these namespaces. */
        java.util.List<String> wrap(java.util.List<String> argv);

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
     * (the ProcessBuilder passes only stdio), then execs the VMM.
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
        ProcessBuilder pb = new ProcessBuilder(inCgroup(cgroup, namespaces.wrap(withInheritedFiles(plan.inheritedFiles(), plan.argv()))))
                .redirectInput(io.stdinRedirect())
                .redirectOutput(io.stdoutRedirect())
                .redirectError(ProcessBuilder.Redirect.PIPE);
        // The VMM gets a clean environment: nothing of the shim's leaks into it.
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        Process p;
        HostNamespaces.requireOnHost("the VMM");
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot execute " + plan.argv().getFirst() + ": " + e.getMessage(), e);
        }
        io.pumpStderr(p.getErrorStream());
        return new VmProcess(p);
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public CompletableFuture<Integer> exit() {
        return exit;
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
        if (!process.isAlive()) return;
        ProcessIdentity target = VmmLookup.vmmUnder(identity);
        if (!target.signal(signal) && !target.equals(identity)) identity.signal(signal);
    }
}
