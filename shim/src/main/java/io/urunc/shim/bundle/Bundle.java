package io.urunc.shim.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.urunc.storage.Volumes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts of a bundle's OCI runtime spec (config.json) the shim uses. Parsed leniently: unknown
 * fields are ignored, wrong types are reported naming the field.
 */
public record Bundle(
        Path dir,
        Map<String, String> annotations,
        List<String> args,
        List<String> env,
        boolean terminal,
        Optional<Long> memoryLimitBytes,
        Optional<Double> cpus,
        Optional<Path> networkNamespace,
        Optional<String> cgroupsPath,
        String rootPath,
        Optional<Path> resolvConfMount,
        boolean newNetworkNamespace,
        List<Hook> prestartHooks,
        List<Namespace> namespaces,
        List<Volumes.SpecMount> mounts) {

    /** An entry of linux.namespaces: join {@code path}, or create a new namespace when it is empty. */
    public record Namespace(String type, Optional<Path> path) {}

    /** An OCI hook: {@code args[0]} is the program's argv[0], which may differ from {@code path}. */
    public record Hook(String path, List<String> args, List<String> env, Optional<Integer> timeoutSeconds) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** config.json of a real container is a few KiB; refuse absurd ones rather than reading them into memory. */
    private static final long MAX_CONFIG_BYTES = 4L << 20;

    public Path rootfs() {
        Path root = Path.of(rootPath);
        return root.isAbsolute() ? root : dir.resolve(root);
    }

    /** This spec with its network namespace at {@code netns}, made by the shim for a spec that asked for a new one. */
    public Bundle withNetworkNamespace(Path netns) {
        return new Bundle(dir, annotations, args, env, terminal, memoryLimitBytes, cpus, Optional.of(netns), cgroupsPath,
                rootPath, resolvConfMount, false, prestartHooks, namespaces, mounts);
    }

    public static Bundle load(Path dir) throws BundleException {
        Path config = dir.resolve("config.json");
        JsonNode spec;
        try {
            if (Files.size(config) > MAX_CONFIG_BYTES) {
                throw new BundleException(config + ": larger than " + MAX_CONFIG_BYTES + " bytes");
            }
            spec = JSON.readTree(config.toFile());
        } catch (NoSuchFileException e) {
            throw new BundleException(config + ": no such file");
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new BundleException(config + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BundleException(config + ": " + e.getMessage());
        }
        if (spec == null || !spec.isObject()) throw new BundleException(config + ": not a JSON object");
        return of(dir, spec);
    }

    /** A spec in the shape containerd writes (no file): what {@link #prepareReader} reads. */
    private static final String SAMPLE = """
            {"ociVersion":"1.1.0","process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["/a","b"],
             "env":["PATH=/usr/bin"],"cwd":"/"},"root":{"path":"rootfs"},
             "mounts":[{"destination":"/proc","type":"proc","source":"proc","options":["nosuid"]}],
             "hooks":{"prestart":[{"path":"/bin/true","args":["true"],"env":[],"timeout":1}]},
             "annotations":{"a":"b"},
             "linux":{"resources":{"memory":{"limit":67108864},"cpu":{"quota":100000,"period":100000}},
              "cgroupsPath":"/default/warm-up","namespaces":[{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"}]}}
            """;

    /**
     * Reads a sample spec through the same parser and accessors as {@link #load} (a daemon's warm-up does, so its first
     * Create does not pay the mapper's construction and the first parse); nothing is read from disk.
     */
    public static void prepareReader() {
        try {
            of(Path.of("/"), JSON.readTree(SAMPLE));
        } catch (IOException | BundleException e) {
            throw new IllegalStateException("the sample spec: " + e.getMessage(), e);
        }
    }

    private static Bundle of(Path dir, JsonNode spec) throws BundleException {
        JsonNode process = spec.path("process");
        JsonNode linux = spec.path("linux");
        JsonNode resources = linux.path("resources");
        return new Bundle(
                dir,
                stringMap(spec.path("annotations"), "annotations"),
                stringList(process.path("args"), "process.args"),
                stringList(process.path("env"), "process.env"),
                process.path("terminal").asBoolean(false),
                positiveLong(resources.path("memory").path("limit")),
                cpus(resources.path("cpu")),
                networkNamespace(linux.path("namespaces")),
                optionalText(linux.path("cgroupsPath")),
                spec.path("root").path("path").asText("rootfs"),
                bindSource(spec.path("mounts"), "/etc/resolv.conf"),
                newNamespace(linux.path("namespaces"), "network"),
                hooks(spec.path("hooks"), "createRuntime", "prestart"),
                namespaces(linux.path("namespaces")),
                mounts(spec.path("mounts")));
    }

    private static List<Volumes.SpecMount> mounts(JsonNode mounts) throws BundleException {
        if (mounts.isMissingNode() || mounts.isNull()) return List.of();
        if (!mounts.isArray()) throw new BundleException("mounts: expected an array");
        List<Volumes.SpecMount> out = new ArrayList<>();
        for (JsonNode m : mounts) {
            out.add(new Volumes.SpecMount(m.path("destination").asText(""), m.path("type").asText(""),
                    m.path("source").asText(""), stringList(m.path("options"), "mounts.options")));
        }
        return List.copyOf(out);
    }

    private static List<Namespace> namespaces(JsonNode namespaces) {
        List<Namespace> out = new ArrayList<>();
        for (JsonNode ns : namespaces) {
            String path = ns.path("path").asText("");
            out.add(new Namespace(ns.path("type").asText(), path.isEmpty() ? Optional.empty() : Optional.of(Path.of(path))));
        }
        return List.copyOf(out);
    }

    private static Map<String, String> stringMap(JsonNode node, String field) throws BundleException {
        if (node.isMissingNode() || node.isNull()) return Map.of();
        if (!node.isObject()) throw new BundleException(field + ": expected an object");
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : node.properties()) {
            if (!e.getValue().isTextual()) throw new BundleException(field + "." + e.getKey() + ": expected a string");
            out.put(e.getKey(), e.getValue().asText());
        }
        return Collections.unmodifiableMap(out);
    }

    private static List<String> stringList(JsonNode node, String field) throws BundleException {
        if (node.isMissingNode() || node.isNull()) return List.of();
        if (!node.isArray()) throw new BundleException(field + ": expected an array");
        List<String> out = new ArrayList<>();
        for (JsonNode n : node) {
            if (!n.isTextual()) throw new BundleException(field + ": expected strings");
            out.add(n.asText());
        }
        return List.copyOf(out);
    }

    private static Optional<Long> positiveLong(JsonNode node) {
        return node.canConvertToLong() && node.asLong() > 0 ? Optional.of(node.asLong()) : Optional.empty();
    }

    private static Optional<Double> cpus(JsonNode cpu) {
        long quota = cpu.path("quota").asLong(0);
        long period = cpu.path("period").asLong(0);
        if (quota > 0 && period > 0) return Optional.of((double) quota / period);
        return Optional.empty();
    }

    private static Optional<Path> networkNamespace(JsonNode namespaces) {
        for (JsonNode ns : namespaces) {
            if ("network".equals(ns.path("type").asText()) && !ns.path("path").asText("").isEmpty()) {
                return Optional.of(Path.of(ns.path("path").asText()));
            }
        }
        return Optional.empty();
    }

    /** A namespace the runtime must create (listed without a path). */
    private static boolean newNamespace(JsonNode namespaces, String type) {
        for (JsonNode ns : namespaces) {
            if (type.equals(ns.path("type").asText()) && ns.path("path").asText("").isEmpty()) return true;
        }
        return false;
    }

    /** The hooks of the given kinds, in OCI order (createRuntime, then the deprecated prestart). */
    private static List<Hook> hooks(JsonNode hooks, String... kinds) throws BundleException {
        List<Hook> out = new ArrayList<>();
        for (String kind : kinds) {
            for (JsonNode h : hooks.path(kind)) {
                String path = h.path("path").asText("");
                if (!path.startsWith("/")) throw new BundleException("hooks." + kind + ": path must be absolute: " + path);
                List<String> args = stringList(h.path("args"), "hooks." + kind + ".args");
                out.add(new Hook(path, args.isEmpty() ? List.of(path) : args, stringList(h.path("env"), "hooks." + kind + ".env"),
                        h.path("timeout").canConvertToInt() && h.path("timeout").asInt() > 0
                                ? Optional.of(h.path("timeout").asInt()) : Optional.empty()));
            }
        }
        return List.copyOf(out);
    }

    /** The host file bind-mounted at {@code destination} (docker and CRI mount resolv.conf this way). */
    private static Optional<Path> bindSource(JsonNode mounts, String destination) {
        for (JsonNode m : mounts) {
            String src = m.path("source").asText("");
            if (destination.equals(m.path("destination").asText()) && src.startsWith("/")) {
                return Optional.of(Path.of(src));
            }
        }
        return Optional.empty();
    }

    private static Optional<String> optionalText(JsonNode node) {
        return node.isTextual() && !node.asText().isEmpty() ? Optional.of(node.asText()) : Optional.empty();
    }

    /** The value of an environment variable of the container process, if set. */
    public Optional<String> envValue(String name) {
        for (String kv : env) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equals(name)) return Optional.of(kv.substring(eq + 1));
        }
        return Optional.empty();
    }
}
