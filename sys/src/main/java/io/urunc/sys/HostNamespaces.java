package io.urunc.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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

    private HostNamespaces() {}

    /**
     * Throws if the calling thread is in another namespace than the process's main thread (the daemon's own):
     * a child started here would land in a container's namespace.
     */
    public static void requireOnHost(String starting) {
        for (String kind : KINDS) {
            Path thread = Path.of("/proc/thread-self/ns/" + kind);
            Path process = Path.of("/proc/self/ns/" + kind);
            try {
                Path mine = Files.readSymbolicLink(thread);
                Path host = Files.readSymbolicLink(process);
                if (!mine.equals(host)) {
                    throw new IllegalStateException("refusing to start " + starting + ": thread '" + Thread.currentThread().getName()
                            + "' is in " + mine + ", not the daemon's " + host + " (the child would run in another container's namespace)");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + thread + " before starting " + starting + ": " + e.getMessage(), e);
            }
        }
    }
}
