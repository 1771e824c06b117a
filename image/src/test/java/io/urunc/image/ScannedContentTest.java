package io.urunc.image;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ScannedContentTest {
    private final ScannedContent cache = new ScannedContent();
    private final AtomicInteger reads = new AtomicInteger();

    private Map<String, String> get(String ns, String digest, String value) throws Exception {
        return cache.get(ns, digest, "config", () -> {
            reads.incrementAndGet();
            return Map.of("com.urunc.unikernel.cmdline", value);
        }, ScannedContent::size);
    }

    @Test
    void aDigestReadOnceIsNotReadAgainInItsNamespace() throws Exception {
        assertEquals("a", get("ns1", "sha256:1", "a").get("com.urunc.unikernel.cmdline"));
        assertEquals("a", get("ns1", "sha256:1", "b").get("com.urunc.unikernel.cmdline"));
        assertEquals(1, reads.get());
        get("ns2", "sha256:1", "a");
        get("ns1", "sha256:2", "a");
        assertEquals(3, reads.get(), "another namespace or digest is read from containerd");
    }

    @Test
    void aLargeEntryIsReadEveryTimeAndTheCacheIsBounded() throws Exception {
        String big = "x".repeat((int) ScannedContent.MAX_ENTRY_CHARS);
        get("ns", "sha256:big", big);
        get("ns", "sha256:big", big);
        assertEquals(2, reads.get());
        assertEquals(0, cache.size());
        for (int i = 0; i < ScannedContent.MAX_ENTRIES + 10; i++) get("ns", "sha256:" + i, "v");
        assertEquals(ScannedContent.MAX_ENTRIES, cache.size());
        reads.set(0);
        get("ns", "sha256:" + (ScannedContent.MAX_ENTRIES + 9), "v");
        get("ns", "sha256:0", "v");
        assertEquals(1, reads.get(), "the most recent stay, the eldest went");
    }
}
