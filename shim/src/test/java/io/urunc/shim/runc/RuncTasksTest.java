package io.urunc.shim.runc;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class RuncTasksTest {
    @Test
    void aPidNamespaceWithoutPathIsTheContainersOwn(@TempDir Path bundle) throws Exception {
        Files.writeString(bundle.resolve("config.json"),
                "{\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"pid\"}]}}");
        assertTrue(RuncTasks.ownPidNamespace(bundle));
    }

    @Test
    void aJoinedOrMissingPidNamespaceIsShared(@TempDir Path bundle) throws Exception {
        Files.writeString(bundle.resolve("config.json"),
                "{\"linux\":{\"namespaces\":[{\"type\":\"pid\",\"path\":\"/proc/1/ns/pid\"}]}}");
        assertFalse(RuncTasks.ownPidNamespace(bundle));
        Files.writeString(bundle.resolve("config.json"), "{\"linux\":{\"namespaces\":[{\"type\":\"mount\"}]}}");
        assertFalse(RuncTasks.ownPidNamespace(bundle));
    }
}
