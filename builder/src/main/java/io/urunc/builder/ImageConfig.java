package io.urunc.builder;

import io.urunc.image.Annotations;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The JSON documents of an image: config (plain-text labels, Cmd), manifest (base64 annotations, like bima) and the
 * /urunc.json content (base64 values, what urunc 0.5-0.7 decode strictly).
 */
final class ImageConfig {
    static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
    static final String CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
    static final String INDEX_TYPE = "application/vnd.oci.image.index.v1+json";

    private ImageConfig() {}

    static String base64(String value) {
        return Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
    }

    /** The com.urunc.unikernel.* labels with base64 values: manifest annotations and /urunc.json entries. */
    static Map<String, String> encodedUruncLabels(Map<String, String> labels) {
        Map<String, String> out = new TreeMap<>();
        UnikernelLabels.uruncLabels(labels).forEach((k, v) -> out.put(k, base64(v)));
        return out;
    }

    static byte[] uruncJson(Map<String, String> labels) {
        return Json.bytes(encodedUruncLabels(labels));
    }

    /**
     * The image Cmd: the cmdline label split into words (double or single quotes group words), as bima does, so
     * that process.args carries the application's arguments; absent without a cmdline label.
     */
    static List<String> cmd(Map<String, String> labels) {
        String cmdline = labels.get(Annotations.CMDLINE);
        return cmdline == null ? List.of() : splitCmdline(cmdline);
    }

    static List<String> splitCmdline(String s) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (char c : s.toCharArray()) {
            if (quote != 0) {
                if (c == quote) quote = 0;
                else w.append(c);
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) words.add(w.toString());
                w.setLength(0);
                inWord = false;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (inWord) words.add(w.toString());
        return words;
    }

    static byte[] config(String architecture, Map<String, String> labels, List<Layer> layers, long epoch) {
        String created = Instant.ofEpochSecond(epoch).toString();
        Map<String, Object> runtime = new LinkedHashMap<>();
        runtime.put("Labels", new TreeMap<>(labels));
        List<String> cmd = cmd(labels);
        if (!cmd.isEmpty()) runtime.put("Cmd", cmd);
        List<Map<String, Object>> history = new ArrayList<>();
        for (Layer l : layers) history.add(Map.of("created", created, "created_by", l.createdBy()));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("created", created);
        config.put("architecture", architecture);
        config.put("os", "linux");
        config.put("config", runtime);
        config.put("rootfs", Map.of("type", "layers", "diff_ids", layers.stream().map(Layer::diffId).toList()));
        config.put("history", history);
        return Json.bytes(config);
    }

    static byte[] manifest(String configDigest, long configSize, List<Layer> layers, Map<String, String> annotations) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("schemaVersion", 2);
        m.put("mediaType", MANIFEST_TYPE);
        m.put("config", descriptor(CONFIG_TYPE, configDigest, configSize, Map.of()));
        m.put("layers", layers.stream().map(l -> descriptor(Layer.MEDIA_TYPE, l.digest(), l.size(), Map.of())).toList());
        if (!annotations.isEmpty()) m.put("annotations", annotations);
        return Json.bytes(m);
    }

    /**
     * index.json naming the image: containerd's importer takes io.containerd.image.name, other OCI tools read
     * org.opencontainers.image.ref.name; both get the fully qualified name so that no --base-name is needed.
     */
    static byte[] index(String manifestDigest, long manifestSize, ImageReference ref) {
        Map<String, String> names = Map.of(
                "io.containerd.image.name", ref.fullName(),
                "org.opencontainers.image.ref.name", ref.fullName());
        Map<String, Object> idx = new LinkedHashMap<>();
        idx.put("schemaVersion", 2);
        idx.put("mediaType", INDEX_TYPE);
        idx.put("manifests", List.of(descriptor(MANIFEST_TYPE, manifestDigest, manifestSize, names)));
        return Json.bytes(idx);
    }

    static Map<String, Object> descriptor(String type, String digest, long size, Map<String, String> annotations) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mediaType", type);
        d.put("digest", digest);
        d.put("size", size);
        if (!annotations.isEmpty()) d.put("annotations", new TreeMap<>(annotations));
        return d;
    }
}
