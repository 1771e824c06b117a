package io.urunc.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The daemon never changes namespace on one of its own threads. Namespaces belong to threads and are inherited
 * by the threads a thread creates, and the JDK creates threads on whichever thread asks (virtual-thread carriers,
 * the process reaper): a thread that joined a pod's network namespace leaves JVM threads behind in it, and every
 * later child started from them (runc for a hostNetwork pod, a hook, a VMM) would run inside that pod. Children
 * that belong in a container's namespaces get util-linux {@code nsenter}/{@code unshare} in front of their
 * command line instead ({@link NamespaceCommands}), and whoever starts a child first checks here that its thread
 * is where the daemon is.
 */
public final class HostNamespaces {
    /** The namespaces a child inherits from the starting thread that matter for isolation. */
    public static final List<String> KINDS = List.of("net", "ipc", "uts", "mnt");
    /**
     * The daemon's own namespaces, read once: {@code /proc/self} is the thread-group leader, which never changes
     * namespace; a failure to read them is reported by the first check.
     */
    private static final Map<String, Path> HOST = read("/proc/self/ns/");

    private HostNamespaces() {}

    /**
     * Throws if the calling thread is in another namespace than the process's main thread (the daemon's own):
     * a child started here would land in a container's namespace.
     */
    public static void requireOnHost(String starting) {
        Map<String, Path> mine = read("/proc/thread-self/ns/");
        for (String kind : KINDS) {
            Path host = HOST.get(kind), thread = mine.get(kind);
            if (host == null || thread == null) {
                throw new IllegalStateException("cannot read the namespaces of the daemon or of thread '"
                        + Thread.currentThread().getName() + "' before starting " + starting);
            }
            if (!thread.equals(host)) {
                throw new IllegalStateException("refusing to start " + starting + ": thread '" + Thread.currentThread().getName()
                        + "' is in " + thread + ", not the daemon's " + host + " (the child would run in another container's namespace)");
            }
        }
    }

    /** kind -> namespace link (e.g. "net:[4026531840]") under {@code dir}; kinds that cannot be read are absent. */
    private static Map<String, Path> read(String dir) {
        Map<String, Path> links = new HashMap<>();
        for (String kind : KINDS) {
            try {
                links.put(kind, Files.readSymbolicLink(Path.of(dir + kind)));
            } catch (IOException e) {
                // absent: requireOnHost refuses
            }
        }
        return links;
    }
}
