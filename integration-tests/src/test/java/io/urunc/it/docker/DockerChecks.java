package io.urunc.it.docker;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Dockerd;
import io.urunc.it.support.Mounts;
import io.urunc.it.support.Processes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/** What the docker tests look at besides the CLI's answers: VMMs, mounts, netns, task records, logs. */
final class DockerChecks {
    private final Containerd containerd;
    private final Dockerd dockerd;

    DockerChecks(Containerd containerd, Dockerd dockerd) {
        this.containerd = containerd;
        this.dockerd = dockerd;
    }

    List<ProcessHandle> qemusOfThisFixture() {
        return Processes.qemus(containerd.dir().toString());
    }

    /** Waits until `docker logs` of the container contains the text. */
    void awaitLog(String id, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String logs = dockerd.docker(Duration.ofSeconds(10), "logs", id).stdout();
            if (logs.contains(text)) return;
            if (System.nanoTime() > deadline) fail("no '" + text + "' in the logs of " + id + " after " + timeout + ":\n" + logs + diagnostics());
            Thread.sleep(200);
        }
    }

    /** No VMM, container mount (rootfs, netns), containerd task, shim task record or bridge port remains (waits up to 20 s). */
    void assertNothingLeft() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            List<String> left = leftovers();
            if (left.isEmpty()) return;
            if (System.nanoTime() > deadline) fail("left behind: " + left + diagnostics());
            Thread.sleep(200);
        }
    }

    List<String> leftovers() {
        List<String> left = new ArrayList<>();
        qemusOfThisFixture().forEach(p -> left.add("qemu " + p.pid() + ": " + Processes.cmdline(p.pid())));
        Processes.matching(containerd.uruncStateDir().toString()).stream().filter(p -> Processes.cmdline(p.pid()).contains("virtiofsd"))
                .forEach(p -> left.add("virtiofsd " + p.pid()));
        // dockerd keeps its data-root (and overlay2's home) mounted private while it runs: that is not a container's.
        Path dataRoot = dockerd.dir().resolve("data");
        Set<String> daemonMounts = Set.of(dataRoot.toString(), dataRoot.resolve("overlay2").toString());
        Mounts.under(containerd.dir()).stream().filter(m -> !daemonMounts.contains(m)).forEach(m -> left.add("mount " + m));
        // A removed container's netns is unmounted at once (seen above); libnetwork deletes the empty file
        // itself up to 60 s later, so the netns directory's files are no sign of a leak.
        left.addAll(list(containerd.uruncStateDir().resolve("tasks/moby"), "task record "));
        containerd.ctr(Duration.ofSeconds(10), "-n", "moby", "tasks", "ls", "-q").stdout().lines()
                .filter(l -> !l.isBlank()).forEach(t -> left.add("containerd task " + t));
        dockerd.bridgePorts().forEach(p -> left.add("bridge port " + p));
        return left;
    }

    private static List<String> list(Path dir, String what) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> what + p).toList();
        } catch (IOException e) {
            return List.of(what + dir + ": " + e);
        }
    }

    String diagnostics() {
        String dockerLog = dockerd.log();
        return "\n--- shim logs\n" + containerd.shimLogs()
                + "\n--- dockerd (tail)\n" + dockerLog.substring(Math.max(0, dockerLog.length() - 6000));
    }
}
