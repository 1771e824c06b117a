package io.urunc.shim;

import io.urunc.image.ContainerdMetadataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
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
}
