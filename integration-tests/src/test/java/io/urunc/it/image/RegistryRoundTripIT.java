package io.urunc.it.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.builder.BuiltImage;
import io.urunc.builder.OutputFormat;
import io.urunc.it.support.Exec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The OCI layout goes to a local registry with skopeo and comes back into containerd with ctr pull. */
class RegistryRoundTripIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Path tmp;
    private Process registry;
    private int port;
    private ImageFixtures.PrivateContainerd containerd;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(ImageFixtures.isRoot(), "needs root to run containerd");
        for (String tool : new String[] {"containerd", "ctr", "skopeo", "docker-registry"}) {
            assumeTrue(ImageFixtures.hasCommand(tool), "needs " + tool);
        }
        tmp = Files.createTempDirectory(Path.of("/tmp"), "uimg");
        port = ImageFixtures.freePort();
        Path config = tmp.resolve("registry.yml");
        Files.writeString(config, """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(tmp.resolve("registry-data"), port));
        registry = new ProcessBuilder("docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("registry.log").toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) break;
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            if (!registry.isAlive()) throw new IllegalStateException("registry died: " + Files.readString(tmp.resolve("registry.log")));
            if (System.nanoTime() > deadline) throw new IllegalStateException("registry not ready");
            Thread.sleep(50);
        }
        containerd = new ImageFixtures.PrivateContainerd(Files.createDirectory(tmp.resolve("containerd")));
    }

    @AfterEach
    void stop() throws Exception {
        if (containerd != null) containerd.close();
        ImageFixtures.stop(registry);
        ImageFixtures.deleteTree(tmp);
    }

    @Test
    void skopeoPushesTheLayoutAndCtrPullsItBackUnchanged() throws Exception {
        BuiltImage image = ImageFixtures.build(tmp.resolve("ctx"), "urunc/it:1", OutputFormat.OCI_DIR, tmp.resolve("layout"));
        String ref = "127.0.0.1:" + port + "/urunc/it:1";
        Exec.run(Duration.ofSeconds(120), Map.of(), "skopeo", "copy", "--dest-tls-verify=false",
                "oci:" + image.output(), "docker://" + ref).ok();

        String pulled = containerd.ctr("-n", "reg", "images", "pull", "--plain-http", ref).ok().stdout();
        assertTrue(pulled.contains(image.manifestDigest()), "the registry serves the manifest we built:\n" + pulled);
        String ls = containerd.ctr("-n", "reg", "images", "ls").ok().stdout();
        assertTrue(ls.contains(ref) && ls.contains(image.manifestDigest()), ls);

        JsonNode manifest = JSON.readTree(containerd.ctr("-n", "reg", "content", "get", image.manifestDigest()).ok().stdout());
        assertEquals("cWVtdQ==", manifest.get("annotations").get("com.urunc.unikernel.hypervisor").asText());
        JsonNode config = JSON.readTree(containerd.ctr("-n", "reg", "content", "get", image.configDigest()).ok().stdout());
        assertEquals("/unikernel/app.elf", config.get("config").get("Labels").get("com.urunc.unikernel.binary").asText());
        assertEquals(3, config.get("rootfs").get("diff_ids").size());
    }
}
