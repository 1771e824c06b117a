package io.urunc.image;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.urunc.storage.RootfsPathException;
import io.urunc.storage.RootfsPaths;
import io.urunc.sys.BoundedRead;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads {@code /urunc.json} at the container rootfs root: one flat JSON object keyed by annotation names. */
final class UruncJson {
    static final int MAX_BYTES = 1 << 20;
    private static final String WHAT = "/" + Annotations.URUNC_JSON;
    private static final JsonFactory JSON = JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build();

    private UruncJson() {}

    /** The {@code com.urunc.unikernel.*} entries, raw (not decoded); empty when the file does not exist. */
    static Map<String, String> read(Path rootfs) throws InvalidMetadataException {
        Path file;
        try {
            file = RootfsPaths.resolve(rootfs, WHAT);
        } catch (RootfsPathException e) {
            throw new InvalidMetadataException(WHAT + " in the container rootfs is unusable: " + e.getMessage(), e);
        }
        if (!Files.exists(file)) return Map.of();
        try {
            RootfsPaths.resolveRegularFile(rootfs, WHAT);
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new InvalidMetadataException(WHAT + " is " + size + " bytes, more than the " + MAX_BYTES + " allowed");
            }
            return entries(BoundedRead.readAll(file, MAX_BYTES));
        } catch (IOException e) {
            throw new InvalidMetadataException("cannot read " + WHAT + " in the container rootfs: " + e.getMessage(), e);
        }
    }

    /** Scanned as tokens, never held as a tree: a megabyte of tiny keys would cost the daemon forty. */
    static Map<String, String> entries(byte[] json) throws InvalidMetadataException {
        Map<String, String> out = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new InvalidMetadataException(WHAT + " must hold a JSON object of \"" + Annotations.PREFIX + "*\" strings");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (!key.startsWith(Annotations.PREFIX) || value == JsonToken.VALUE_NULL) {
                    p.skipChildren();
                } else if (value.isScalarValue()) {
                    out.put(key, p.getText());
                } else {
                    throw new InvalidMetadataException(key + " (from " + WHAT + "): must be a string, got "
                            + (value == JsonToken.START_OBJECT ? "OBJECT" : "ARRAY"));
                }
            }
        } catch (JacksonException e) {
            throw new InvalidMetadataException(WHAT + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidMetadataException("cannot parse " + WHAT + ": " + e.getMessage(), e);
        }
        return out;
    }
}
