package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A private, real containerd (Debian's package) for tests: its own root, state, socket and config,
 * with the urunc shim from this build on its PATH. Closing it kills whatever is left and removes it all.
 */
public final class Containerd implements AutoCloseable {
    public static final Path REPO = Path.of(System.getProperty("urunc.repo", "..")).toAbsolutePath().normalize();
    public static final String JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";

    private final Path dir;
    private final Path socket;
    private final Path uruncState;
    private final Process process;
    private final Stack stack;
    private final Map<String, String> env = new HashMap<>();

    private Containerd(Stack stack, Path dir, String extraConfig, String uruncConfig) throws IOException, InterruptedException {
        stack.requireInstalled();
        this.stack = stack;
        this.dir = dir;
        this.socket = dir.resolve("c.sock");
        this.uruncState = dir.resolve("u");
        Path bin = dir.resolve("bin");
        Files.createDirectories(bin);
        installShim(bin);
        Path uruncToml = dir.resolve("urunc.toml");
        Files.writeString(uruncToml, """
                [shim]
                state_dir = "%s"
                idle_exit_seconds = 1
                kill_grace_seconds = 2
                [monitors.qemu]
                accelerator = "tcg"
                default_memory_mb = 128
                """.formatted(uruncState) + uruncConfig);
        Path config = dir.resolve("config.toml");
        String[] extra = splitAtFirstTable(extraConfig);
        Files.writeString(config, """
                version = %d
                root = "%s"
                state = "%s"
                %s
                [grpc]
                  address = "%s"
                [ttrpc]
                  address = "%s.ttrpc"
                """.formatted(stack.containerd2() ? 3 : 2, dir.resolve("root"), dir.resolve("state"), extra[0].strip(),
                socket, socket) + extra[1]);
        env.put("PATH", bin + ":" + stack.pathPrefix() + "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("URUNC_CONFIG_FILE", uruncToml.toString());
        ProcessBuilder pb = new ProcessBuilder(stack.containerd(), "--config", config.toString(), "--log-level", "debug")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("containerd.log").toFile());
        pb.environment().putAll(env);
        process = pb.start();
        // A test JVM that dies must not leave containerd and its shims running.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (process.isAlive()) {
                process.destroyForcibly();
                Processes.killMatching(dir.toString());
            }
        }));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.exists(socket) || ctr("version").exit() != 0) {
            if (!process.isAlive()) throw new IllegalStateException("containerd died: " + log());
            if (System.nanoTime() > deadline) throw new IllegalStateException("containerd not ready: " + log());
            Thread.sleep(50);
        }
    }

    /** TOML's top-level keys (disabled_plugins) and its tables: the keys must come before every table. */
    private static String[] splitAtFirstTable(String toml) {
        int at = toml.startsWith("[") ? 0 : toml.indexOf("\n[");
        if (at < 0) return new String[] {toml, ""};
        if (at > 0) at++;
        return new String[] {toml.substring(0, at), toml.substring(at)};
    }

    /** Debian 12's containerd without CRI. */
    public static Containerd start() throws IOException, InterruptedException {
        return start(Stack.CONTAINERD_1_6);
    }

    /** containerd of {@code stack} without CRI (nor, on 2.x, NRI, which would open /var/run/nri). */
    public static Containerd start(Stack stack) throws IOException, InterruptedException {
        return start(stack, "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.nri.v1.nri\"]\n", "");
    }

    public static Containerd start(String extraConfig, String uruncConfig) throws IOException, InterruptedException {
        return start(Stack.CONTAINERD_1_6, extraConfig, uruncConfig);
    }

    public static Containerd start(Stack stack, String extraConfig, String uruncConfig) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "uit");
        try {
            return new Containerd(stack, dir, extraConfig, uruncConfig);
        } catch (IOException | InterruptedException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    /** The launcher of this build's shim, pointing at shim/target/dist. */
    private static void installShim(Path bin) throws IOException {
        Path dist = REPO.resolve("shim/target/dist");
        Path launcher = dist.resolve("bin/containerd-shim-urunc-v2");
        if (!Files.exists(launcher)) throw new IllegalStateException(launcher + " missing: build the shim module first");
        String script = Files.readString(launcher).replace("@URUNC_HOME@", dist.toString()).replace("@URUNC_JAVA@", JAVA);
        Path target = bin.resolve("containerd-shim-urunc-v2");
        Files.writeString(target, script);
        target.toFile().setExecutable(true);
    }

    public Path socket() {
        return socket;
    }

    public Stack stack() {
        return stack;
    }

    public Path dir() {
        return dir;
    }

    public Path uruncStateDir() {
        return uruncState;
    }

    public Map<String, String> env() {
        return env;
    }

    public Exec.Result ctr(String... args) {
        return ctr(Duration.ofSeconds(60), args);
    }

    public Exec.Result ctr(Duration timeout, String... args) {
        return Exec.run(timeout, env, ctrCommand(args));
    }

    /**
     * The command line of {@code ctr args} against this containerd. The FIFOs of a run, task start or task exec go
     * to its own dir: by default they go to /run/containerd/fifo, and those of a detached task or a killed ctr stay.
     */
    public List<String> ctrCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(stack.ctr(), "--address", socket.toString()));
        cmd.addAll(List.of(args));
        int sub = args.length > 2 && args[0].equals("-n") ? 2 : 0;
        boolean run = args.length > sub && args[sub].equals("run");
        boolean taskIo = args.length > sub + 1 && List.of("task", "tasks", "t").contains(args[sub])
                && List.of("start", "exec").contains(args[sub + 1]);
        if (run || taskIo) cmd.addAll(3 + sub + (run ? 1 : 2), List.of("--fifo-dir", dir.resolve("fifo").toString()));
        return cmd;
    }

    /** {@code ctr args} left running, its stdout and stderr in {@code out}. */
    public Process ctrInBackground(Path out, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(ctrCommand(args)).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    public String log() {
        try {
            String s = Files.readString(dir.resolve("containerd.log"));
            return s.length() > 20000 ? s.substring(s.length() - 20000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** The urunc daemon logs of this containerd (for failure messages). */
    public String shimLogs() {
        Path logs = uruncState.resolve("log");
        if (!Files.isDirectory(logs)) return "(no shim logs)";
        StringBuilder sb = new StringBuilder();
        try (var files = Files.list(logs)) {
            for (Path f : files.toList()) {
                String s = Files.readString(f);
                sb.append("== ").append(f).append('\n').append(s.length() > 20000 ? s.substring(s.length() - 20000) : s);
            }
        } catch (IOException e) {
            sb.append(e);
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (String ns : List.of("default", "k8s.io", "moby")) {
            Exec.Result tasks = ctr(Duration.ofSeconds(10), "-n", ns, "tasks", "ls", "-q");
            for (String t : tasks.stdout().lines().filter(l -> !l.isBlank()).toList()) {
                ctr(Duration.ofSeconds(10), "-n", ns, "tasks", "kill", "-s", "SIGKILL", t);
                ctr(Duration.ofSeconds(10), "-n", ns, "tasks", "delete", "-f", t);
            }
            Exec.Result cs = ctr(Duration.ofSeconds(10), "-n", ns, "containers", "ls", "-q");
            for (String c : cs.stdout().lines().filter(l -> !l.isBlank()).toList()) {
                ctr(Duration.ofSeconds(10), "-n", ns, "containers", "delete", c);
            }
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Shim daemons of this containerd exit on their own when idle; make sure.
        Processes.killMatching(dir.toString());
        Mounts.unmountUnder(dir);
        deleteTree(dir);
    }

    public static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (var walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
