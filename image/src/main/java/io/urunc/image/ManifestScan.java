package io.urunc.image;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the shim uses of an image manifest or index, read as a token stream: the {@code com.urunc.} annotations, and
 * for an index the manifest to follow. Nothing else of the document is kept, so a large manifest costs its bytes
 * once, never a tree of them.
 *
 * @param index        whether the document lists {@code manifests} (an index)
 * @param annotations  the top-level annotations whose key starts with {@value #KEPT_PREFIX}
 * @param platformDigest the manifest for linux and the wanted architecture, if listed
 * @param soleDigest   the digest of an index's only manifest when it names no platform (single-image tools)
 * @param configDigest a manifest's image config
 */
record ManifestScan(boolean index, Map<String, String> annotations, Optional<String> platformDigest,
                    Optional<String> soleDigest, Optional<String> configDigest) {
    static final String KEPT_PREFIX = "com.urunc.";
    // image-chosen keys must not grow a symbol table: each name is looked at once
    private static final JsonFactory JSON = JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build();

    /** The manifest an index points to for {@code arch}: the platform match, else its only platform-less entry. */
    Optional<String> manifestFor() {
        return platformDigest.or(() -> soleDigest);
    }

    static ManifestScan read(InputStream in, String arch) throws IOException {
        try (JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
            Map<String, String> annotations = new LinkedHashMap<>();
            boolean index = false;
            Optional<String> config = Optional.empty();
            Entries entries = new Entries(arch);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("annotations") && value == JsonToken.START_OBJECT) {
                    readAnnotations(p, annotations);
                } else if (field.equals("config") && value == JsonToken.START_OBJECT) {
                    config = Optional.ofNullable(stringField(p, "digest"));
                } else if (field.equals("manifests") && value == JsonToken.START_ARRAY) {
                    index = true;
                    while (p.nextToken() == JsonToken.START_OBJECT) entries.add(p);
                } else {
                    p.skipChildren();
                }
            }
            return new ManifestScan(index, Map.copyOf(annotations), entries.match, entries.sole(), config);
        }
    }

    /** The {@code com.urunc.} labels of an image config ({@code config.Labels}), scanned the same way. */
    static Map<String, String> configLabels(InputStream in) throws IOException {
        Map<String, String> labels = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (!field.equals("config") || value != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String inner = p.currentName();
                    if (p.nextToken() == JsonToken.START_OBJECT && inner.equals("Labels")) readAnnotations(p, labels);
                    else p.skipChildren();
                }
            }
        }
        return Map.copyOf(labels);
    }

    /** The string value of {@code name} in the object the parser is in; the rest of the object is skipped. */
    private static String stringField(JsonParser p, String name) throws IOException {
        String found = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if (field.equals(name) && value == JsonToken.VALUE_STRING) found = p.getText();
            else p.skipChildren();
        }
        return found;
    }

    private static void readAnnotations(JsonParser p, Map<String, String> out) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken value = p.nextToken();
            if (key.startsWith(KEPT_PREFIX) && value.isScalarValue() && value != JsonToken.VALUE_NULL) {
                out.put(key, p.getText());
            } else {
                p.skipChildren();
            }
        }
    }

    /** The entries of an index, counted, keeping only the digests that can be chosen. */
    private static final class Entries {
        private final String arch;
        private Optional<String> match = Optional.empty();
        private int count;
        private String firstWithoutPlatform;

        Entries(String arch) {
            this.arch = arch;
        }

        void add(JsonParser p) throws IOException {
            count++;
            String digest = null;
            String os = null;
            String architecture = null;
            boolean hasPlatform = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if (field.equals("digest") && value == JsonToken.VALUE_STRING) {
                    digest = p.getText();
                } else if (field.equals("platform") && value == JsonToken.START_OBJECT) {
                    hasPlatform = true;
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String pf = p.currentName();
                        JsonToken pv = p.nextToken();
                        if (pf.equals("os") && pv == JsonToken.VALUE_STRING) os = p.getText();
                        else if (pf.equals("architecture") && pv == JsonToken.VALUE_STRING) architecture = p.getText();
                        else p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
            if (digest == null) return;
            if (match.isEmpty() && "linux".equals(os) && arch.equals(architecture)) match = Optional.of(digest);
            if (!hasPlatform && firstWithoutPlatform == null) firstWithoutPlatform = digest;
        }

        Optional<String> sole() {
            return count == 1 ? Optional.ofNullable(firstWithoutPlatform) : Optional.empty();
        }
    }
}
