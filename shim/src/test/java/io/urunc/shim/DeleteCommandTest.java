package io.urunc.shim;

import io.urunc.shim.config.ConfigLoader;
import io.urunc.shim.config.ShimConfig;
import io.urunc.shim.netns.OwnNetworkNamespace;
import io.urunc.shim.task.TaskRecord;
import io.urunc.shim.task.TaskStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** `delete` after the daemon died: what the task record names is released. */
class DeleteCommandTest {
    private static boolean mounted(Path p) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .anyMatch(l -> l.split(" ")[4].equals(p.toString()));
    }

    @Test
    void removesTheRunDirAndANetworkNamespaceTheShimCreated(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        ShimConfig config = ConfigLoader.parse("[shim]\nstate_dir = \"" + state + "\"\n", "test");
        Path runDir = Files.createDirectories(state.resolve("t/abc"));
        Files.writeString(runDir.resolve("qmp.sock"), "");
        Path netns = OwnNetworkNamespace.create(state.resolve("netns/abc"));
        try {
            assertTrue(mounted(netns));
            new TaskStore(state).save(new TaskRecord("c1", "default", dir.toString(), 0, "", runDir.toString(), "",
                    "", "", netns.toString()));

            var response = DeleteCommand.run(ShimArgs.parse(new String[] {"-namespace", "default", "-id", "c1", "delete"}),
                    config);

            assertEquals(137, response.getExitStatus());
            assertFalse(mounted(netns), "the namespace is unpinned");
            assertFalse(Files.exists(netns));
            assertFalse(Files.exists(runDir));
            assertTrue(new TaskStore(state).load("default", "c1").isEmpty(), "the record is gone");
        } finally {
            OwnNetworkNamespace.remove(netns);
        }
    }
}
