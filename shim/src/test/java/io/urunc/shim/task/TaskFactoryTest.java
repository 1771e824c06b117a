package io.urunc.shim.task;

import io.urunc.image.ContainerdMetadataSource;
import io.urunc.image.MetadataResolver;
import io.urunc.proto.task.CreateTaskRequest;
import io.urunc.shim.config.ConfigLoader;
import io.urunc.shim.config.ShimConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TaskFactoryTest {
    /** containerd's metadata source failing with an Error, as an image's oversized manifest once made it. */
    private static final ContainerdMetadataSource OUT_OF_MEMORY = new ContainerdMetadataSource() {
        @Override
        public Map<String, String> containerLabels(String namespace, String containerId) {
            throw new OutOfMemoryError("Java heap space");
        }

        @Override
        public Map<String, String> imageManifestAnnotations(String namespace, String containerId) {
            throw new OutOfMemoryError("Java heap space");
        }
    };

    @TempDir
    Path dir;

    private Path state() {
        return dir.resolve("state");
    }

    private TaskFactory factory() throws Exception {
        ShimConfig config = ConfigLoader.parse("[shim]\nstate_dir = \"" + state() + "\"\n", "test");
        return new TaskFactory(config, "default", new MetadataResolver(OUT_OF_MEMORY), new TaskStore(state()),
                (h, p, v, io) -> null, null);
    }

    private CreateTaskRequest create() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), "{\"process\":{\"args\":[\"/app\"]},\"root\":{\"path\":\"rootfs\"}}");
        return CreateTaskRequest.newBuilder().setId("c1").setBundle(bundle.toString()).build();
    }

    @Test
    void anErrorHalfWayThroughCreateLeavesNothingBehind() throws Exception {
        TaskFactory factory = factory();
        CreateTaskRequest req = create();

        assertThrows(OutOfMemoryError.class, () -> factory.create(req, (topic, event) -> {}));

        assertTrue(new TaskStore(state()).load("default", "c1").isEmpty(), "the task record is removed");
        try (Stream<Path> runDirs = Files.list(state().resolve("t"))) {
            assertEquals(0, runDirs.count(), "the run dir is removed");
        }
    }

    @Test
    void aTaskWhoseRecordCannotBeWrittenIsNotCreated() throws Exception {
        TaskFactory factory = factory();
        CreateTaskRequest req = create();
        // where the namespace's records go is not a directory: every save fails
        Files.createDirectories(state().resolve("tasks"));
        Files.writeString(state().resolve("tasks/default"), "");

        var e = assertThrows(io.urunc.ttrpc.TtrpcException.class, () -> factory.create(req, (topic, event) -> {}));

        assertTrue(e.getMessage().startsWith("task c1: cannot write its record: "), e.getMessage());
    }
}
