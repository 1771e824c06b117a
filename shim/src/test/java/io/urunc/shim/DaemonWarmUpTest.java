package io.urunc.shim;

import io.urunc.image.ContainerdMetadataSource;
import io.urunc.proto.task.ConnectRequest;
import io.urunc.proto.task.ConnectResponse;
import io.urunc.shim.task.TaskService;
import io.urunc.ttrpc.TtrpcClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A daemon's warm-up reads what its first Create will ask containerd for, and fails quietly without containerd. */
class DaemonWarmUpTest {
    @Test
    void leavesTheFirstCreateOnlyTheContainerAndImageToAskFor(@TempDir Path dir) throws Exception {
        try (TrainingContainerd containerd = new TrainingContainerd(dir.resolve("c.sock"),
                Map.of("com.urunc.unikernel.binary", "/kernel"))) {
            ContainerdMetadataSource source = ContainerdSource.forAddress("unix://" + containerd.socket);
            DaemonWarmUp.Parts parts = DaemonWarmUp.start(source, "ns", TrainingContainerd.CONTAINER);
            assertTrue(parts.containerd().get(30, TimeUnit.SECONDS), "the reads answered");
            parts.local().get(30, TimeUnit.SECONDS);
            assertEquals(5, containerd.calls.size(), containerd.calls.toString());

            containerd.calls.clear();
            assertEquals(Map.of("com.urunc.unikernel.binary", "/kernel"),
                    source.everything("ns", TrainingContainerd.CONTAINER).manifestAnnotations());
            assertEquals(List.of("/containerd.services.containers.v1.Containers/Get task",
                    "/containerd.services.images.v1.Images/Get " + TrainingContainerd.IMAGE), List.copyOf(containerd.calls));
        }
    }

    @Test
    void withoutContainerdTheReadFailsAndTheRestIsDone(@TempDir Path dir) throws Exception {
        ContainerdMetadataSource gone = ContainerdSource.forAddress(dir.resolve("no-containerd.sock").toString());
        DaemonWarmUp.Parts parts = DaemonWarmUp.start(gone, "ns", "task");
        assertFalse(parts.containerd().get(30, TimeUnit.SECONDS));
        parts.local().get(30, TimeUnit.SECONDS);
    }

    @Test
    void withoutAddressOrTaskThereIsNothingToRead() throws Exception {
        assertFalse(DaemonWarmUp.start(null, "ns", "task").containerd().get(30, TimeUnit.SECONDS));
        assertFalse(DaemonWarmUp.start(ContainerdSource.forAddress("/run/x.sock"), "ns", "").containerd().get(30, TimeUnit.SECONDS));
    }

    /** A daemon whose containerd is not there (yet): its warm-up fails, the daemon serves and exits when idle. */
    @Test
    void aDaemonWithoutContainerdServes(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        Path config = dir.resolve("c.toml");
        Files.writeString(config, "[shim]\nstate_dir = \"" + state + "\"\nidle_exit_seconds = 1\n");
        String address = dir.resolve("no-containerd.sock").toString();
        DaemonAddress daemon = DaemonAddress.of(address, "warmup", "", state);
        Files.createDirectories(daemon.socket().getParent());
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "-namespace", "warmup", "-address", address,
                "-publish-binary", "/bin/true", "-socket", daemon.socket().toString(), "-id", "t1", "daemon")
                .redirectError(dir.resolve("stderr").toFile());
        pb.environment().put("URUNC_CONFIG_FILE", config.toString());
        pb.environment().put("TTRPC_ADDRESS", address + ".ttrpc");
        Process p = pb.start();
        try {
            String ready = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
            assertNotNull(ready, Files.readString(dir.resolve("stderr")));
            assertTrue(ready.startsWith("READY"), ready);
            try (TtrpcClient client = TtrpcClient.connect(daemon.socket())) {
                ConnectResponse r = client.call(TaskService.SERVICE, "Connect",
                        ConnectRequest.newBuilder().setId("t1").build(),
                        ConnectResponse.parser(), Duration.ofSeconds(10), Map.of());
                assertEquals(p.pid(), r.getShimPid());
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exited when idle");
            assertEquals(0, p.exitValue());
            assertFalse(Files.exists(daemon.socket()), "the daemon removed its socket");
        } finally {
            p.destroyForcibly().waitFor();
            Files.deleteIfExists(daemon.socket());
        }
    }
}
