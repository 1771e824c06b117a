package io.urunc.shim.netns;

import io.urunc.shim.bundle.Bundle;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class OciHooksTest {
    private static Bundle.Hook hook(String script, int timeoutSeconds) {
        return new Bundle.Hook("/bin/sh", List.of("sh", "-c", script), List.of("PATH=/usr/bin:/bin"),
                Optional.of(timeoutSeconds));
    }

    @Test
    void aHookWritingMegabytesDoesNotStallTheCreate() throws Exception {
        long t0 = System.nanoTime();
        OciHooks.run(List.of(hook("head -c 3000000 /dev/zero | tr '\\\\0' x; exit 0", 20)), "{}");
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "the hook ran to its end without waiting for its timeout");
    }

    @Test
    void aFailingChattyHookReportsItsLastWords() {
        IOException e = assertThrows(IOException.class, () -> OciHooks.run(List.of(
                hook("head -c 200000 /dev/zero | tr '\\\\0' x; echo; echo 'cannot set up the network' >&2; exit 3", 20)),
                "{}"));
        assertTrue(e.getMessage().startsWith("hook /bin/sh (sh) failed with exit status 3: [19"), e.getMessage());
        assertTrue(e.getMessage().endsWith("cannot set up the network"), e.getMessage());
        assertTrue(e.getMessage().length() < 5000, "bounded: " + e.getMessage().length());
    }
}
