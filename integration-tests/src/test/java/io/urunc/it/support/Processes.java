package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Looks at the processes of this machine by command line. */
public final class Processes {
    private Processes() {}

    public static List<ProcessHandle> matching(String needle) {
        return ProcessHandle.allProcesses().filter(p -> cmdline(p.pid()).contains(needle)).toList();
    }

    /** QEMU processes themselves (argv[0]), not the helpers that start them, whose command line mentions {@code needle}. */
    public static List<ProcessHandle> qemus(String needle) {
        return matching(needle).stream().filter(p -> {
            String c = cmdline(p.pid());
            String argv0 = c.contains(" ") ? c.substring(0, c.indexOf(' ')) : c;
            return argv0.contains("qemu-system");
        }).toList();
    }

    public static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * SIGKILLs the processes whose command line has {@code needle}, then removes the unix sockets they listened on
     * (shim daemons' and runc shims' sockets in /run/containerd/s): a killed process cannot, and a dead socket file
     * would stay there for good.
     */
    public static void killMatching(String needle) {
        long self = ProcessHandle.current().pid();
        List<ProcessHandle> victims = matching(needle).stream().filter(p -> p.pid() != self).toList();
        Set<Path> sockets = new HashSet<>();
        for (ProcessHandle p : victims) sockets.addAll(listeningSockets(p.pid()));
        for (ProcessHandle p : victims) p.destroyForcibly();
        for (ProcessHandle p : victims) {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // gone or stuck: its sockets are removed below either way
            }
        }
        for (Path socket : sockets) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** The paths of the unix sockets process {@code pid} listens on (/proc/net/unix, state LISTEN, by inode). */
    static Set<Path> listeningSockets(long pid) {
        Set<String> inodes = new HashSet<>();
        try (var fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) inodes.add(target.substring(8, target.length() - 1));
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            return Set.of();
        }
        Set<Path> paths = new HashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/net/unix")).stream().skip(1).toList()) {
                String[] f = line.trim().split("\\s+");
                // Num RefCount Protocol Flags Type St Inode Path; St 01 = listening
                if (f.length >= 8 && f[5].equals("01") && inodes.contains(f[6]) && f[7].startsWith("/")) {
                    paths.add(Path.of(f[7]));
                }
            }
        } catch (IOException e) {
            return Set.of();
        }
        return paths;
    }
}
