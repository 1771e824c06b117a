package io.urunc.shim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.urunc.sys.HostNamespaces;
import io.urunc.sys.Libc;
import io.urunc.sys.NamespaceCommands;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The training run's network namespace ({@link Training}): a throwaway namespace with an uplink as CNI leaves one
 * (a veth, {@value #ADDRESS}, a default route), so that the training's second task attaches its VM there and the AOT
 * cache holds the network attach and detach (their first use in a daemon was ~170 ms of class loading, JIT and first
 * spawns). Only as root and with {@code ip} and {@code unshare} at hand; otherwise training goes on without it.
 *
 * <p>Nothing is left behind, also when training fails or is killed: the namespace belongs to a child process
 * ({@code unshare --net cat}) that ends when its stdin, a pipe from this JVM, closes, and a namespace ends with its
 * last process, taking its links, taps, qdiscs and filters with it. No thread of this JVM joins it.
 */
final class TrainingNetwork implements AutoCloseable {
    static final String ADDRESS = "10.254.0.2/24";
    private static final String GATEWAY = "10.254.0.1";
    private static final List<Path> IP = List.of(Path.of("/usr/sbin/ip"), Path.of("/sbin/ip"), Path.of("/usr/bin/ip"));
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process holder;
    private final Path netns;

    private TrainingNetwork(Process holder) {
        this.holder = holder;
        this.netns = Path.of("/proc/" + holder.pid() + "/ns/net");
    }

    /** A namespace set up for an attach, or empty where this user or machine cannot make one. */
    static Optional<TrainingNetwork> create() throws IOException, InterruptedException {
        Optional<Path> found = IP.stream().filter(Files::isExecutable).findFirst();
        Path unshare = NamespaceCommands.UNSHARE;
        if (found.isEmpty() || !Files.isExecutable(unshare) || Libc.geteuid() != 0) return Optional.empty();
        Path ip = found.get();
        HostNamespaces.requireOnHost("the training's network namespace");
        Process holder = new ProcessBuilder(unshare.toString(), "--net", "--", "cat")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        TrainingNetwork ns = new TrainingNetwork(holder);
        try {
            ns.awaitOwnNamespace();
            String script = "link add eth0 type veth peer name eth1\n"
                    + "addr add " + ADDRESS + " dev eth0\n"
                    + "link set eth0 up\nlink set eth1 up\nlink set lo up\n"
                    + "route add default via " + GATEWAY + "\n";
            Process setup = new ProcessBuilder(NamespaceCommands.inNetwork(ns.netns, List.of(ip.toString(), "-batch", "-")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
            try (var in = setup.getOutputStream()) {
                in.write(script.getBytes(StandardCharsets.UTF_8));
            }
            if (!setup.waitFor(10, TimeUnit.SECONDS) || setup.exitValue() != 0) {
                setup.destroyForcibly();
                ns.close();
                return Optional.empty();
            }
            return Optional.of(ns);
        } catch (IOException | InterruptedException | RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    /** A copy of the bundle at {@code from} in {@code to} whose spec names this namespace as the task's network. */
    Path bundle(Path from, Path to) throws IOException {
        Files.createDirectories(to.resolve("rootfs"));
        try (var files = Files.list(from.resolve("rootfs"))) {
            for (Path f : files.toList()) Files.copy(f, to.resolve("rootfs").resolve(f.getFileName()));
        }
        ObjectNode spec = (ObjectNode) JSON.readTree(from.resolve("config.json").toFile());
        ObjectNode linux = spec.has("linux") ? (ObjectNode) spec.get("linux") : spec.putObject("linux");
        ArrayNode namespaces = linux.has("namespaces") ? (ArrayNode) linux.get("namespaces") : linux.putArray("namespaces");
        namespaces.addObject().put("type", "network").put("path", netns.toString());
        JSON.writeValue(to.resolve("config.json").toFile(), spec);
        return to;
    }

    /** {@code unshare} runs {@code cat} only once it has its namespace: until then its netns is this JVM's. */
    private void awaitOwnNamespace() throws IOException, InterruptedException {
        Path mine = Files.readSymbolicLink(Path.of("/proc/self/ns/net"));
        for (int i = 0; i < 400; i++) {
            if (!holder.isAlive()) throw new IOException("unshare --net ended with " + holder.exitValue());
            try {
                if (!Files.readSymbolicLink(netns).equals(mine)) return;
            } catch (IOException e) {
                // not there yet
            }
            Thread.sleep(5);
        }
        throw new IOException("unshare --net did not make a network namespace within 2 s");
    }

    @Override
    public void close() {
        try {
            holder.getOutputStream().close();
            if (!holder.waitFor(5, TimeUnit.SECONDS)) holder.destroyForcibly().waitFor();
        } catch (IOException e) {
            holder.destroyForcibly();
        } catch (InterruptedException e) {
            holder.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
