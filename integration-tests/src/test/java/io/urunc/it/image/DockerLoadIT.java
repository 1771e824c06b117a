package io.urunc.it.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.builder.BuiltImage;
import io.urunc.builder.OutputFormat;
import io.urunc.it.support.Containerd;
import io.urunc.it.support.Dockerd;
import io.urunc.it.support.Exec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The docker-archive output loads into a private dockerd with labels and Cmd. The dockerd runs on a private
 * containerd: left to itself, dockerd 20.10 uses whatever answers at /run/containerd/containerd.sock, and a stale
 * socket there (a killed system containerd) makes it retry and die.
 */
class DockerLoadIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path tmp;
    private Containerd containerd;
    private Dockerd dockerd;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Dockerd.available(), "needs root, dockerd and the docker CLI");
        tmp = Files.createTempDirectory(Path.of("/tmp"), "uimg");
        containerd = Containerd.start();
        dockerd = Dockerd.start(containerd);
    }

    @AfterEach
    void stop() {
        if (dockerd != null) dockerd.close();
        if (containerd != null) containerd.close();
        if (tmp != null) ImageFixtures.deleteTree(tmp);
    }

    private Exec.Result docker(String... args) {
        return dockerd.docker(args);
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
