package io.urunc.shim.task;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CleanupTest {
    @Test
    void anInterruptedCreateStillWaitsThroughEveryStepInReverseOrder() {
        List<String> done = new ArrayList<>();
        Cleanup cleanup = new Cleanup();
        cleanup.push("rootfs mount", () -> done.add("unmount"));
        cleanup.push("VMM", () -> {
            Thread.sleep(50); // waiting for the VMM to die
            done.add("vmm stopped");
        });
        Thread.currentThread().interrupt();
        cleanup.close();
        assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
        assertEquals(List.of("vmm stopped", "unmount"), done);
    }
}
