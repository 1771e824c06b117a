package io.urunc.shim.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads {@link ShimConfig} from TOML. Unknown keys are ignored (urunc's own files carry more). */
public final class ConfigLoader {
    private static final Set<String> ACCELERATORS = Set.of("auto", "kvm", "tcg");
    private static final TomlFactory TOML = new TomlFactory();

    private ConfigLoader() {}

    /** The file named by URUNC_CONFIG_FILE, else /etc/urunc/config.toml; defaults when it does not exist. */
    public static ShimConfig load(Map<String, String> env) throws ConfigException {
        String override = env.get("URUNC_CONFIG_FILE");
        Path file = override != null && !override.isEmpty() ? Path.of(override) : ShimConfig.DEFAULT_FILE;
        if (!Files.exists(file)) {
            if (override != null && !override.isEmpty()) throw new ConfigException(file + ": no such file (URUNC_CONFIG_FILE)");
            return ShimConfig.defaults();
        }
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage());
        }
    }

    public static ShimConfig parse(String toml, String name) throws ConfigException {
        JsonNode root;
        try (JsonParser p = TOML.createParser(toml)) {
            root = p.nextToken() == null ? JsonNodeFactory.instance.objectNode() : tree(p);
        } catch (IOException e) {
            throw new ConfigException(name + ": not valid TOML: " + e.getMessage());
        }
        ShimConfig d = ShimConfig.defaults();
        JsonNode shim = root.path("shim");
        JsonNode log = root.path("log");
        ShimConfig.Grouping grouping = d.grouping();
        if (shim.has("grouping")) {
            String g = shim.get("grouping").asText().toUpperCase(Locale.ROOT);
            try {
                grouping = ShimConfig.Grouping.valueOf(g);
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name + ": shim.grouping must be namespace, pod or container, not \""
                        + shim.get("grouping").asText() + "\"");
            }
        }
        Map<String, MonitorConfig> monitors = new LinkedHashMap<>();
        for (var e : root.path("monitors").properties()) {
            monitors.put(e.getKey(), monitor(e.getValue(), name + ": monitors." + e.getKey()));
        }
        return new ShimConfig(
                grouping,
                Path.of(shim.path("state_dir").asText(d.stateDir().toString())),
                log.path("level").asText(d.logLevel()),
                seconds(shim, "idle_exit_seconds", d.idleExit(), name),
                seconds(shim, "idle_release_seconds", d.idleRelease(), name),
                seconds(shim, "kill_grace_seconds", d.killGrace(), name),
                Map.copyOf(monitors),
                absolutePath(root.path("extra_binaries").path("virtiofsd"), d.virtiofsd(), name + ": extra_binaries.virtiofsd.path"));
    }

    /**
     * The value at the parser's current token, as a tree. Built here from the token stream rather than by a
     * TomlMapper: making an ObjectMapper is ~25 ms of a daemon's start (and of every shim JVM's), for a file of a few lines.
     */
    private static JsonNode tree(JsonParser p) throws IOException {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        return switch (p.currentToken()) {
            case START_OBJECT -> {
                ObjectNode object = nodes.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    object.set(key, tree(p));
                }
                yield object;
            }
            case START_ARRAY -> {
                ArrayNode array = nodes.arrayNode();
                while (p.nextToken() != JsonToken.END_ARRAY) array.add(tree(p));
                yield array;
            }
            case VALUE_STRING -> nodes.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> nodes.numberNode(p.getIntValue());
                case LONG -> nodes.numberNode(p.getLongValue());
                default -> nodes.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> nodes.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> nodes.booleanNode(true);
            case VALUE_FALSE -> nodes.booleanNode(false);
            case VALUE_EMBEDDED_OBJECT -> nodes.pojoNode(p.getEmbeddedObject());
            default -> nodes.nullNode();
        };
    }

    private static MonitorConfig monitor(JsonNode node, String where) throws ConfigException {
        MonitorConfig d = MonitorConfig.defaults();
        String accel = node.path("accelerator").asText(d.accelerator()).toLowerCase(Locale.ROOT);
        if (!ACCELERATORS.contains(accel)) {
            throw new ConfigException(where + ".accelerator must be auto, kvm or tcg, not \"" + accel + "\"");
        }
        int memory = node.path("default_memory_mb").asInt(d.defaultMemoryMb());
        int vcpus = node.path("default_vcpus").asInt(d.defaultVcpus());
        if (memory <= 0) throw new ConfigException(where + ".default_memory_mb must be positive");
        if (vcpus <= 0) throw new ConfigException(where + ".default_vcpus must be positive");
        String path = node.path("path").asText("");
        long idBase = node.path("vmm_id_base").asLong(d.vmmIdBase());
        if (idBase <= 0 || idBase > io.urunc.vmm.VmmUser.MAX_BASE)
            throw new ConfigException(where + ".vmm_id_base must be 1.." + io.urunc.vmm.VmmUser.MAX_BASE + ", not " + idBase);
        return new MonitorConfig(path.isEmpty() ? Optional.empty() : Optional.of(path), memory, vcpus, accel,
                node.path("seccomp").asBoolean(d.seccomp()), node.path("drop_privileges").asBoolean(d.dropPrivileges()), idBase);
    }

    private static Path absolutePath(JsonNode table, Path dflt, String where) throws ConfigException {
        String p = table.path("path").asText("");
        if (p.isEmpty()) return dflt;
        if (!p.startsWith("/")) throw new ConfigException(where + " must be an absolute path, not \"" + p + "\"");
        return Path.of(p);
    }

    private static Duration seconds(JsonNode table, String key, Duration dflt, String where) throws ConfigException {
        if (!table.has(key)) return dflt;
        double s = table.get(key).asDouble(-1);
        if (s < 0) throw new ConfigException(where + ": shim." + key + " must be a non-negative number");
        return Duration.ofMillis((long) (s * 1000));
    }
}
