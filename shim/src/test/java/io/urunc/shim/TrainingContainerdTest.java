package io.urunc.shim;

import io.urunc.image.ContainerdGrpcMetadataSource;
import io.urunc.image.ContainerdMetadataSource;
import io.urunc.image.grpc.GrpcCode;
import io.urunc.image.grpc.GrpcException;
import io.urunc.image.grpc.UnaryGrpcClient;
import io.urunc.proto.events.TaskExit;
import io.urunc.proto.events.TaskStart;
import io.urunc.shim.events.EventPublisher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The training run's containerd answers the real clients of the daemon as containerd would. */
class TrainingContainerdTest {
    private static final Map<String, String> METADATA = Map.of("com.urunc.unikernel.unikernelType", "linux",
            "com.urunc.unikernel.binary", "/kernel");

    @Test
    void servesTheContainersImageThroughItsIndexManifestAndConfig(@TempDir Path dir) throws Exception {
        try (TrainingContainerd containerd = new TrainingContainerd(dir.resolve("c.sock"), METADATA);
             ContainerdGrpcMetadataSource client = new ContainerdGrpcMetadataSource(containerd.socket)) {
            ContainerdMetadataSource.Everything all = client.everything("ns", TrainingContainerd.CONTAINER);
            assertEquals(METADATA, all.manifestAnnotations());
            assertEquals(Map.of("com.urunc.unikernel.training", "true"), all.configLabels());
            assertEquals("SIGTERM", all.containerLabels().get("io.containerd.image.config.stop-signal"));
            List<String> calls = List.copyOf(containerd.calls);
            assertEquals(5, calls.size(), calls.toString());
            assertEquals("/containerd.services.containers.v1.Containers/Get task", calls.get(0));
            assertEquals("/containerd.services.images.v1.Images/Get " + TrainingContainerd.IMAGE, calls.get(1));
            assertTrue(calls.subList(2, 5).stream().allMatch(c -> c.startsWith("/containerd.services.content.v1.Content/Read sha256:")),
                    calls.toString());
            assertEquals(3, calls.subList(2, 5).stream().distinct().count(), "index, manifest and config: " + calls);
        }
    }

    @Test
    void anotherContainerIsNotFoundAndAnotherMethodUnimplemented(@TempDir Path dir) throws Exception {
        try (TrainingContainerd containerd = new TrainingContainerd(dir.resolve("c.sock"), METADATA);
             ContainerdGrpcMetadataSource client = new ContainerdGrpcMetadataSource(containerd.socket);
             UnaryGrpcClient raw = new UnaryGrpcClient(containerd.socket)) {
            ContainerdMetadataSource.Everything none = client.everything("ns", "other");
            assertEquals(Map.of(), none.containerLabels());
            assertEquals(Map.of(), none.manifestAnnotations());
            GrpcException e = assertThrows(GrpcException.class, () ->
                    raw.unary("/containerd.services.version.v1.Version/Version", Map.of(), new byte[0], Duration.ofSeconds(5)));
            assertEquals(GrpcCode.UNIMPLEMENTED, e.code());
        }
    }

    @Test
    void receivesTaskEventsInOrderAndLeavesNoSocket(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("c.sock");
        try (TrainingContainerd containerd = new TrainingContainerd(socket, METADATA)) {
            try (EventPublisher events = new EventPublisher(Path.of(socket + ".ttrpc"), "ns")) {
                events.publish("/tasks/start", TaskStart.newBuilder().setContainerId("t").setPid(2).build());
                events.publish("/tasks/exit", TaskExit.newBuilder().setContainerId("t").setPid(2).build());
            }
            assertEquals(List.of("/tasks/start", "/tasks/exit"), List.copyOf(containerd.events));
        }
        assertFalse(Files.exists(socket));
        assertFalse(Files.exists(Path.of(socket + ".ttrpc")));
    }
}
