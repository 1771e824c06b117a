package io.urunc.sys;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Command lines that run a program in other namespaces: util-linux {@code nsenter} joins existing ones and
 * {@code unshare} makes new ones, in the child, after the fork (see {@link HostNamespaces} for why never on a
 * JVM thread). Both exec the program (no extra process) except {@code unshare --pid --fork}, which must fork
 * for the program to be pid 1 of its namespace.
 */
public final class NamespaceCommands {
    public static final Path NSENTER = Path.of("/usr/bin/nsenter");
    public static final Path UNSHARE = Path.of("/usr/bin/unshare");
    /** nsenter's and unshare's option (they share the names) for each namespace kind, as the OCI spec names them. */
    private static final Map<String, String> OPTION = Map.of("network", "--net", "ipc", "--ipc", "uts", "--uts");

    private NamespaceCommands() {}

    /** {@code argv} run inside the network namespace at {@code netns} (a bind-mounted file or /proc/PID/ns/net). */
    public static List<String> inNetwork(Path netns, List<String> argv) {
        return wrap(Map.of("network", netns), List.of(), false, argv);
    }

    /**
     * {@code argv} in the namespaces {@code join} names (kind -> path; kinds {@code network}, {@code ipc},
     * {@code uts}), then in new namespaces of the kinds in {@code create}, and as pid 1 of a new pid namespace
     * when {@code newPid}.
     */
    public static List<String> wrap(Map<String, Path> join, List<String> create, boolean newPid, List<String> argv) {
        List<String> cmd = new ArrayList<>();
        if (!join.isEmpty()) {
            cmd.add(NSENTER.toString());
            for (Map.Entry<String, Path> j : new TreeMap<>(join).entrySet()) {
                cmd.add(option(j.getKey()) + "=" + j.getValue());
            }
            cmd.add("--");
        }
        if (!create.isEmpty() || newPid) {
            cmd.add(UNSHARE.toString());
            for (String kind : create.stream().sorted().toList()) cmd.add(option(kind));
            if (newPid) cmd.addAll(List.of("--pid", "--fork", "--kill-child"));
            cmd.add("--");
        }
        cmd.addAll(argv);
        return cmd;
    }

    private static String option(String kind) {
        String o = OPTION.get(kind);
        if (o == null) throw new IllegalArgumentException("no namespace option for kind '" + kind + "'");
        return o;
    }
}
