package io.urunc.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    static Map<String, String> entries(byte[] json) throws InvalidMetadataException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new InvalidMetadataException(WHAT + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidMetadataException("cannot parse " + WHAT + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidMetadataException(WHAT + " must hold a JSON object of \"" + Annotations.PREFIX + "*\" strings");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : root.properties()) {
            if (!e.getKey().startsWith(Annotations.PREFIX)) continue;
            JsonNode v = e.getValue();
            if (v.isNull()) continue;
            if (!v.isValueNode()) {
                throw new InvalidMetadataException(e.getKey() + " (from " + WHAT + "): must be a string, got " + v.getNodeType());
            }
            out.put(e.getKey(), v.asText());
        }
        return out;
    }
}
