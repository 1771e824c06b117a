package io.urunc.it.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.builder.BuiltImage;
import io.urunc.builder.OutputFormat;
import io.urunc.it.support.Exec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The docker-archive output loads into a private dockerd (no bridge, no iptables) with labels and Cmd. */
class DockerLoadIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path tmp;
    private Process dockerd;
    private Path socket;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(ImageFixtures.isRoot(), "needs root to run dockerd");
        assumeTrue(ImageFixtures.hasCommand("dockerd") && ImageFixtures.hasCommand("docker"), "needs docker.io");
        tmp = Files.createTempDirectory(Path.of("/tmp"), "uimg");
        socket = tmp.resolve("docker.sock");
        dockerd = new ProcessBuilder("dockerd", "--data-root", tmp.resolve("data").toString(),
                "--exec-root", tmp.resolve("exec").toString(), "-H", "unix://" + socket,
                "--pidfile", tmp.resolve("docker.pid").toString(), "--bridge=none", "--iptables=false", "--ip-masq=false",
                "--containerd-namespace", "urunc-it", "--containerd-plugins-namespace", "urunc-it-plugins")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("dockerd.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (docker("version").exit() != 0) {
            if (!dockerd.isAlive()) throw new IllegalStateException("dockerd died: " + Files.readString(tmp.resolve("dockerd.log")));
            if (System.nanoTime() > deadline) throw new IllegalStateException("dockerd not ready");
            Thread.sleep(100);
        }
    }

    @AfterEach
    void stop() throws Exception {
        ImageFixtures.stop(dockerd); // dockerd stops the containerd it started
        ImageFixtures.deleteTree(tmp);
    }

    private Exec.Result docker(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("docker", "-H", "unix://" + socket));
        cmd.addAll(List.of(args));
        return Exec.run(Duration.ofSeconds(60), Map.of(), cmd);
    }

    @Test
    void dockerLoadsTheArchiveWithLabelsAndCmd() throws Exception {
        BuiltImage image = ImageFixtures.build(tmp.resolve("ctx"), "example.com/urunc/docker:1", OutputFormat.DOCKER_ARCHIVE,
                tmp.resolve("docker.tar"));
        String loaded = docker("load", "-i", image.output().toString()).ok().stdout();
        assertTrue(loaded.contains("Loaded image: example.com/urunc/docker:1"), loaded);
        JsonNode inspect = JSON.readTree(docker("image", "inspect", "example.com/urunc/docker:1").ok().stdout()).get(0);
        assertEquals(image.configDigest(), inspect.get("Id").asText());
        assertEquals(new TreeMap<>(ImageFixtures.LABELS), JSON.convertValue(inspect.get("Config").get("Labels"), TreeMap.class));
        assertEquals(List.of("app", "--port", "80"), JSON.convertValue(inspect.get("Config").get("Cmd"), List.class));
        assertEquals("amd64", inspect.get("Architecture").asText());
    }
}
