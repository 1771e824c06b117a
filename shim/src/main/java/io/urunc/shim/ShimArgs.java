package io.urunc.shim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line containerd passes to a shim binary, parsed the way Go's flag package does
 * ({@code -flag value}, {@code -flag=value}, {@code --flag}); unknown flags are tolerated because newer
 * containerd versions add some.
 */
public record ShimArgs(
        String namespace,
        String address,
        String publishBinary,
        String id,
        String bundle,
        boolean debug,
        boolean version,
        boolean info,
        String socket,
        String action) {

    private static final Set<String> BOOLEAN_FLAGS = Set.of("debug", "v", "version", "info");

    public static ShimArgs parse(String[] argv) {
        Map<String, String> flags = new HashMap<>();
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (a.startsWith("-") && a.length() > 1 && positional.isEmpty()) {
                String name = a.startsWith("--") ? a.substring(2) : a.substring(1);
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    flags.put(name.substring(0, eq), name.substring(eq + 1));
                } else if (BOOLEAN_FLAGS.contains(name)) {
                    flags.put(name, "true");
                } else if (i + 1 < argv.length) {
                    flags.put(name, argv[++i]);
                } else {
                    flags.put(name, "");
                }
            } else {
                positional.add(a);
            }
        }
        return new ShimArgs(
                flags.getOrDefault("namespace", ""),
                flags.getOrDefault("address", ""),
                flags.getOrDefault("publish-binary", ""),
                flags.getOrDefault("id", ""),
                flags.getOrDefault("bundle", ""),
                truthy(flags.get("debug")),
                truthy(flags.get("v")) || truthy(flags.get("version")),
                truthy(flags.get("info")),
                flags.getOrDefault("socket", ""),
                positional.isEmpty() ? "" : positional.getFirst());
    }

    private static boolean truthy(String v) {
        return v != null && (v.isEmpty() || v.equals("true") || v.equals("1"));
    }
}
