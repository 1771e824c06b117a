package io.urunc.shim.runc;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The runc command lines for one container, as containerd's runc shim builds them: global
 * {@code --root <root> --log <bundle>/log.json --log-format json}, then the action.
 *
 * @param runc          the runc binary
 * @param root          runc's state root (ours, never containerd's)
 * @param bundle        the OCI bundle; runc's log.json is written there
 * @param systemdCgroup whether the spec's cgroupsPath is systemd-style ({@code slice:prefix:name})
 */
public record RuncCommands(Path runc, Path root, Path bundle, boolean systemdCgroup) {

    public Path logFile() {
        return bundle.resolve("log.json");
    }

    public Path pidFile() {
        return bundle.resolve("init.pid");
    }

    public List<String> create(String id, Optional<Path> consoleSocket) {
        List<String> argv = global();
        argv.addAll(List.of("create", "--bundle", bundle.toString(), "--pid-file", pidFile().toString()));
        consoleSocket.ifPresent(s -> argv.addAll(List.of("--console-socket", s.toString())));
        argv.add(id);
        return argv;
    }

    /**
     * {@code runc exec --detach}: runs the process described by {@code processJson} (an OCI Process) in the
     * container; runc writes its host pid to {@code pidFile} and exits, leaving the process to its subreaper.
     */
    public List<String> exec(String id, Path processJson, Path pidFile, Optional<Path> consoleSocket) {
        List<String> argv = global();
        argv.addAll(List.of("exec", "--process", processJson.toString(), "--detach", "--pid-file", pidFile.toString()));
        consoleSocket.ifPresent(s -> argv.addAll(List.of("--console-socket", s.toString())));
        argv.add(id);
        return argv;
    }

    public List<String> start(String id) {
        return action("start", id);
    }

    public List<String> kill(String id, int signal, boolean all) {
        List<String> argv = global();
        argv.add("kill");
        if (all) argv.add("--all");
        argv.add(id);
        argv.add(Integer.toString(signal));
        return argv;
    }

    public List<String> delete(String id, boolean force) {
        List<String> argv = global();
        argv.add("delete");
        if (force) argv.add("--force");
        argv.add(id);
        return argv;
    }

    public List<String> ps(String id) {
        List<String> argv = global();
        argv.addAll(List.of("ps", "--format", "json", id));
        return argv;
    }

    public List<String> pause(String id) {
        return action("pause", id);
    }

    public List<String> resume(String id) {
        return action("resume", id);
    }

    private List<String> action(String action, String id) {
        List<String> argv = global();
        argv.add(action);
        argv.add(id);
        return argv;
    }

    private List<String> global() {
        List<String> argv = new ArrayList<>(List.of(runc.toString(), "--root", root.toString(),
                "--log", logFile().toString(), "--log-format", "json"));
        if (systemdCgroup) argv.add("--systemd-cgroup");
        return argv;
    }

    /** runc's root for a namespace: {@code <stateDir>/runc/<namespace>}. */
    public static Path rootFor(Path stateDir, String namespace) {
        return stateDir.resolve("runc").resolve(namespace);
    }

    /** {@code slice:prefix:name} paths need runc's systemd cgroup driver. */
    public static boolean isSystemdCgroupsPath(String cgroupsPath) {
        return !cgroupsPath.startsWith("/") && cgroupsPath.split(":", -1).length == 3;
    }

    /** runc on the PATH (Debian installs it in /usr/sbin), else /usr/sbin/runc. */
    public static Path findRunc() {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, "runc");
            if (java.nio.file.Files.isExecutable(candidate)) return candidate;
        }
        return Path.of("/usr/sbin/runc");
    }
}
