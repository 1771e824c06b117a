package io.urunc.it.docker;

import io.urunc.it.support.Containerd;
import io.urunc.it.support.Dockerd;
import io.urunc.it.support.Exec;
import io.urunc.it.support.Guests;
import io.urunc.it.support.OciArchive;
import io.urunc.it.support.Stack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Docker 28 with the containerd image store (Docker 29's default): images live in containerd's {@code moby}
 * namespace and the container record names the image, but docker copies none of its labels. A unikernel whose
 * metadata is only in its image config labels (no /urunc.json, no manifest annotations) still boots, and one
 * with an incomplete set fails naming the missing key instead of being handed to runc.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DockerImageStoreIT {
    private static final String LABELLED = "urunc.test/tiny-labels:latest";
    private static final String INCOMPLETE = "urunc.test/tiny-incomplete:latest";
    private Containerd containerd;
    private Dockerd dockerd;
    private DockerChecks checks;

    @BeforeAll
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // may build the guests first
    void startDocker() throws Exception {
        assumeTrue(Dockerd.available(), "needs root and docker.io");
        containerd = Containerd.start(Stack.CONTAINERD_2_1);
        dockerd = Dockerd.start(containerd, true);
        checks = new DockerChecks(containerd, dockerd);
        Guests.build();
        byte[] tiny = Files.readAllBytes(Containerd.REPO.resolve("guests/out/tiny/tiny.elf"));
        List<OciArchive.ImageFile> files = List.of(new OciArchive.ImageFile("/tiny.elf", 0755, tiny));
        load(LABELLED, files, Map.of("com.urunc.unikernel.unikernelType", "linux",
                "com.urunc.unikernel.hypervisor", "qemu", "com.urunc.unikernel.binary", "/tiny.elf"));
        load(INCOMPLETE, files, Map.of("com.urunc.unikernel.unikernelType", "linux",
                "com.urunc.unikernel.binary", "/tiny.elf"));
    }

    private void load(String reference, List<OciArchive.ImageFile> files, Map<String, String> labels) throws Exception {
        Path archive = dockerd.dir().resolve(reference.replaceAll("[^a-z0-9]", "_") + ".tar");
        OciArchive.write(archive, reference, files, List.of(), List.of("exit=0"), labels);
        dockerd.docker(Duration.ofMinutes(1), "load", "-i", archive.toString()).ok();
    }

    @AfterAll
    void stopDocker() {
        if (dockerd != null) dockerd.close();
        if (containerd != null) containerd.close();
    }

    @Test
    void unikernelDescribedOnlyByImageConfigLabelsRuns() throws Exception {
        Exec.Result r = dockerd.docker(Duration.ofSeconds(60), "run", "--rm", "--runtime", Dockerd.RUNTIME, LABELLED, "exit=4");
        assertEquals(4, r.exit(), r + checks.diagnostics());
        assertTrue(r.stdout().contains("TINY: booted"), r.toString());
        checks.assertNothingLeft();
    }

    @Test
    void incompleteImageLabelsFailNamingTheMissingKey() throws Exception {
        Exec.Result r = dockerd.docker(Duration.ofSeconds(60), "run", "--rm", "--runtime", Dockerd.RUNTIME, INCOMPLETE);
        assertNotEquals(0, r.exit(), r.toString());
        assertTrue(r.stderr().contains("com.urunc.unikernel.hypervisor is missing"), "names the key, not runc's error: " + r);
        checks.assertNothingLeft();
    }
}
