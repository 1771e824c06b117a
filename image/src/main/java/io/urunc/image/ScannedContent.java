package io.urunc.image;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * What was kept of manifests and configs already read, by namespace and digest: content in containerd's store is
 * addressed by its digest, so a digest read once reads the same again. Warm Creates of one image then ask containerd
 * for the container and the image only. Bounded in entries and in what one entry may hold (an image's {@code com.urunc.}
 * values are its own to size): a large one is read every time rather than kept.
 */
final class ScannedContent {
    static final int MAX_ENTRIES = 64;
    static final long MAX_ENTRY_CHARS = 16 << 10;

    interface Read<T> {
        T read() throws IOException;
    }

    private final Map<String, Object> entries = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Object> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    @SuppressWarnings("unchecked")
    <T> T get(String namespace, String digest, String kind, Read<T> read, ToLongFunction<T> chars) throws IOException {
        String key = namespace + '\0' + kind + '\0' + digest;
        synchronized (entries) {
            Object kept = entries.get(key);
            if (kept != null) return (T) kept;
        }
        T value = read.read();
        if (chars.applyAsLong(value) <= MAX_ENTRY_CHARS) {
            synchronized (entries) {
                entries.put(key, value);
            }
        }
        return value;
    }

    int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    static long size(Map<String, String> m) {
        long n = 0;
        for (var e : m.entrySet()) n += e.getKey().length() + e.getValue().length();
        return n;
    }
}
