package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A private dockerd (the one of its containerd's {@link Stack}) on top of a private {@link Containerd}, with a runtime
 * {@value #RUNTIME} for {@code docker run --runtime urunc}. Its data-root, exec-root, pidfile, socket and
 * CLI config live in {@code <containerd dir>/docker}; containers use a private bridge with a free
 * 10.216.x.0/24 subnet; no iptables rules, no ip_forward or masquerading change on the host. Published
 * ports ({@code -p 127.0.0.1:PORT:80}) go through docker-proxy, which needs no iptables.
 *
 * <p>Docker 28 registers the runtime as {@code {"runtimeType": "io.containerd.urunc.v2"}}. Docker 20.10 cannot
 * select a shim v2 runtime: every runtime it knows runs under
 * {@code io.containerd.runc.v2}, with the runtime's {@code path} passed as {@code BinaryName} in the runc
 * options (a daemon.json {@code runtimeType} is silently ignored there; shim v2 runtimes came with Docker
 * 23/24). So the runtime is registered as {@code {"path": "io.containerd.urunc.v2"}} and the fixture puts a
 * {@code containerd-shim-runc-v2} dispatcher first on the private containerd's PATH: a shim start whose
 * options name {@code io.containerd.urunc.v2} goes to {@code containerd-shim-urunc-v2}, everything else to
 * the real runc shim. It must be installed before that containerd starts its first runc-v2 task
 * (containerd caches where it found a shim binary), so start this right after {@link Containerd#start}.
 *
 * <p>Close it before its containerd: it removes all containers, stops dockerd and its docker-proxy
 * processes, deletes the bridge and every veth left on it, unmounts and removes its directory.
 */
public final class Dockerd implements AutoCloseable {
    public static final String RUNTIME = "urunc";
    /** The runtime "binary" name docker passes to containerd; the dispatcher routes it to our shim. */
    static final String SHIM_MARKER = "io.containerd.urunc.v2";
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final Containerd containerd;
    private final Path dir;
    private final Path socket;
    private final PrivateBridge bridge;
    private final Map<String, String> env = new HashMap<>();
    private final boolean containerdImageStore;
    private Process process;

    private Dockerd(Containerd containerd, Path dir, PrivateBridge bridge, boolean containerdImageStore) {
        this.containerd = containerd;
        this.containerdImageStore = containerdImageStore;
        this.dir = dir;
        this.socket = dir.resolve("docker.sock");
        this.bridge = bridge;
        env.put("DOCKER_HOST", "unix://" + socket);
        env.put("DOCKER_CONFIG", dir.resolve("cli").toString());
        env.put("PATH", containerd.env().get("PATH"));
    }

    /** True where a dockerd can run: root, with docker.io's dockerd and a docker CLI installed. */
    public static boolean available() {
        return "root".equals(System.getProperty("user.name")) && onPath("dockerd") && onPath("docker")
                && onPath("containerd-shim-runc-v2");
    }

    public static Dockerd start(Containerd containerd) throws IOException, InterruptedException {
        return start(containerd, false);
    }

    /**
     * With {@code containerdImageStore} (Docker 28 only) images live in containerd's {@code moby} namespace and
     * the containerd container record names the image, as with Docker 29's default.
     */
    public static Dockerd start(Containerd containerd, boolean containerdImageStore) throws IOException, InterruptedException {
        Path dir = containerd.dir().resolve("docker");
        Files.createDirectories(dir.resolve("cli"));
        if (!containerd.stack().containerd2()) {
            if (containerdImageStore) throw new IllegalArgumentException("docker 20.10 has no containerd image store");
            installRuntimeDispatcher(containerd.dir().resolve("bin"), dir.resolve("runtime-dispatch"));
        }
        Dockerd d = new Dockerd(containerd, dir, PrivateBridge.create(), containerdImageStore);
        try {
            d.launch();
            return d;
        } catch (IOException | InterruptedException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    private void launch() throws IOException, InterruptedException {
        Path config = dir.resolve("daemon.json");
        // docker >= 23 selects a shim v2 runtime by runtimeType: no dispatcher
        String runtime = containerd.stack().containerd2() ? "{\"runtimeType\": \"" + SHIM_MARKER + "\"}"
                : "{\"path\": \"" + SHIM_MARKER + "\"}";
        String features = containerdImageStore ? ", \"features\": {\"containerd-snapshotter\": true}" : "";
        Files.writeString(config, "{\"runtimes\": {\"" + RUNTIME + "\": " + runtime + "}" + features + "}\n");
        ProcessBuilder pb = new ProcessBuilder(containerd.stack().dockerd(),
                "--config-file", config.toString(),
                "--data-root", dir.resolve("data").toString(),
                "--exec-root", dir.resolve("exec").toString(),
                "--pidfile", dir.resolve("docker.pid").toString(),
                "-H", "unix://" + socket,
                "--containerd", containerd.socket().toString(),
                "--bridge", bridge.name(),
                "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=true",
                "--log-level", "debug")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("dockerd.log").toFile());
        pb.environment().putAll(env);
        process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(socket) || docker(Duration.ofSeconds(5), "version").exit() != 0) {
            if (!process.isAlive()) throw new IllegalStateException("dockerd died: " + log());
            if (System.nanoTime() > deadline) throw new IllegalStateException("dockerd not ready in 30 s: " + log());
            Thread.sleep(100);
        }
    }

    /**
     * Docker 20.10 starts every runtime as io.containerd.runc.v2 and names the runtime's path in the options it
     * writes to the shim's stdin on start. A start naming {@link #SHIM_MARKER} is remembered (for the later
     * delete of the same task, which gets no options) and sent to the urunc shim.
     */
    private static void installRuntimeDispatcher(Path containerdBin, Path marks) throws IOException {
        Path realRuncShim = findOnPath("containerd-shim-runc-v2", containerdBin);
        Files.createDirectories(marks);
        String script = """
                #!/bin/sh
                # Written by the Dockerd test fixture: routes docker's runtime "%1$s" to containerd-shim-urunc-v2.
                marks='%2$s'
                prev= ns= id=
                for arg in "$@"; do
                  case "$prev" in -namespace|--namespace) ns=$arg ;; -id|--id) id=$arg ;; esac
                  prev=$arg
                done
                mark="$marks/$ns.$id"
                if [ "$prev" = start ]; then
                  cat > "$mark.options"
                  if grep -aqF '%1$s' "$mark.options"; then : > "$mark"; fi
                  exec < "$mark.options"
                fi
                if [ -e "$mark" ]; then exec containerd-shim-urunc-v2 "$@"; fi
                exec '%3$s' "$@"
                """.formatted(SHIM_MARKER, marks, realRuncShim);
        Path target = containerdBin.resolve("containerd-shim-runc-v2");
        Files.writeString(target, script);
        if (!target.toFile().setExecutable(true)) throw new IOException("cannot make " + target + " executable");
    }

    public Exec.Result docker(String... args) {
        return docker(DEFAULT_TIMEOUT, args);
    }

    public Exec.Result docker(Duration timeout, String... args) {
        return Exec.run(timeout, env, Exec.concat(List.of(containerd.stack().docker()), args));
    }

    /**
     * Builds the named test images (guests/images/NAME) as docker archives with urunc-build and loads them:
     * they are then urunc.test/NAME:latest in this dockerd.
     */
    public void loadImages(String... names) {
        Guests.build();
        Map<String, String> buildEnv = Map.of("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64", "SOURCE_DATE_EPOCH", "0");
        for (String name : names) {
            Path containerfile = Containerd.REPO.resolve("guests/images/" + name + "/Containerfile");
            if (!Files.exists(containerfile)) throw new IllegalArgumentException("no test image named " + name + ": " + containerfile + " missing");
            String tag = "urunc.test/" + name + ":latest";
            Path archive = dir.resolve("images/" + name + ".tar");
            Exec.run(Duration.ofMinutes(3), buildEnv, Containerd.REPO.resolve("builder/bin/urunc-build").toString(),
                    "build", "-q", "-t", tag, "-f", containerfile.toString(), "--output", "docker-archive",
                    "-o", archive.toString(), Containerd.REPO.resolve("guests/out/ctx/" + name).toString()).ok();
            Exec.Result load = docker(Duration.ofMinutes(2), "load", "-i", archive.toString()).ok();
            if (!load.stdout().contains("Loaded image: " + tag)) throw new IllegalStateException("docker load did not name " + tag + ": " + load);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Where dockerd keeps the containers' network namespaces (their SandboxKey). */
    public Path netnsDir() {
        return dir.resolve("exec/netns");
    }

    public String bridgeName() {
        return bridge.name();
    }

    public Map<String, String> env() {
        return env;
    }

    /** The tail of dockerd's log, for failure messages. */
    public String log() {
        try {
            String s = Files.readString(dir.resolve("dockerd.log"));
            return s.length() > 20000 ? s.substring(s.length() - 20000) : s;
        } catch (IOException e) {
            return "(no dockerd log)";
        }
    }

    /** Interfaces still enslaved to the private bridge (veths of containers that are gone should not be). */
    public List<String> bridgePorts() {
        return bridge.ports();
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            String ids = docker(Duration.ofSeconds(10), "ps", "-aq").stdout();
            for (String id : ids.lines().filter(l -> !l.isBlank()).toList()) {
                docker(Duration.ofSeconds(30), "rm", "-f", id);
            }
            List<ProcessHandle> children = process.descendants().toList(); // docker-proxy processes
            process.destroy();
            try {
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        }
        bridge.close();
        Mounts.unmountUnder(dir);
        Containerd.deleteTree(dir);
    }

    private static boolean onPath(String name) {
        try {
            findOnPath(name, null);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path findOnPath(String name, Path except) throws IOException {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").concat(":/usr/sbin:/usr/bin").split(":")) {
            Path p = Path.of(d, name);
            if (!d.isEmpty() && !Path.of(d).equals(except) && Files.isExecutable(p)) return p;
        }
        throw new IOException(name + " not found on PATH");
    }

    /** A bridge of our own with a /24 no host interface or route uses, so docker never touches docker0. */
    private record PrivateBridge(String name, String gateway) implements AutoCloseable {
        static PrivateBridge create() {
            for (int attempt = 0; attempt < 20; attempt++) {
                int net = ThreadLocalRandom.current().nextInt(1, 255);
                String prefix = "10.216." + net + ".";
                String used = ip("-o", "-4", "addr").stdout() + ip("-4", "route", "show", "table", "all").stdout();
                if (used.contains(prefix)) continue;
                String name = "urdbr" + net;
                if (ip("link", "add", name, "type", "bridge").exit() != 0) continue; // taken by a concurrent fixture
                PrivateBridge b = new PrivateBridge(name, prefix + "1");
                try {
                    ip("addr", "add", b.gateway + "/24", "dev", name).ok();
                    ip("link", "set", name, "up").ok();
                    return b;
                } catch (RuntimeException | AssertionError e) {
                    b.close();
                    throw e;
                }
            }
            throw new IllegalStateException("no free 10.216.x.0/24 for a private docker bridge");
        }

        List<String> ports() {
            return ip("-o", "link", "show", "master", name).stdout().lines()
                    .map(l -> l.split(":\\s+")[1].split("@")[0]).toList();
        }

        @Override
        public void close() {
            if (ip("link", "show", name).exit() != 0) return;
            ports().forEach(port -> ip("link", "del", port));
            ip("link", "del", name);
        }

        private static Exec.Result ip(String... args) {
            List<String> cmd = new ArrayList<>(List.of("ip"));
            cmd.addAll(List.of(args));
            return Exec.run(Duration.ofSeconds(10), Map.of(), cmd);
        }
    }
}
