package io.urunc.shim.vm;

import java.lang.System.Logger.Level;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The container's cgroup (OCI linux.cgroupsPath) for the VMM process, on cgroup v1 or v2. Only
 * placement and accounting: the VM's memory is sized from the limit, so the shim does not also cap
 * the VMM's own overhead.
 */
public final class Cgroup {
    private static final System.Logger LOG = System.getLogger(Cgroup.class.getName());
    static final Path ROOT = Path.of("/sys/fs/cgroup");
    /** Mounted as the combined "cpu,cpuacct" on most hosts, as separate "cpu" and "cpuacct" on others. */
    private static final List<String> V1_CONTROLLERS = List.of("cpu,cpuacct", "cpu", "cpuacct", "memory", "pids", "blkio");

    private final List<Path> dirs;
    private final boolean v2;

    private Cgroup(List<Path> dirs, boolean v2) {
        this.dirs = dirs;
        this.v2 = v2;
    }

    public static boolean unifiedHierarchy() {
        return Files.exists(ROOT.resolve("cgroup.controllers"));
    }

    /** Creates the cgroup directories for an OCI cgroupsPath; empty for systemd-style or unusable paths. */
    public static Optional<Cgroup> create(String cgroupsPath) {
        if (cgroupsPath.contains(":") || cgroupsPath.contains("..")) {
            LOG.log(Level.WARNING, "cgroupsPath {0} not used: systemd-style and relative paths are not supported", cgroupsPath);
            return Optional.empty();
        }
        String rel = cgroupsPath.startsWith("/") ? cgroupsPath.substring(1) : cgroupsPath;
        boolean v2 = unifiedHierarchy();
        List<Path> dirs = new ArrayList<>();
        List<Path> bases = v2 ? List.of(ROOT) : v1Hierarchies();
        for (Path base : bases) {
            Path dir = base.resolve(rel).normalize();
            if (!dir.startsWith(base)) continue;
            try {
                Files.createDirectories(dir);
                dirs.add(dir);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot create cgroup {0}: {1}", dir, e.getMessage());
            }
        }
        return dirs.isEmpty() ? Optional.empty() : Optional.of(new Cgroup(List.copyOf(dirs), v2));
    }

    /** The v1 hierarchies that hold our controllers, each once ("cpu" is often a link to "cpu,cpuacct"). */
    private static List<Path> v1Hierarchies() {
        List<Path> found = new ArrayList<>();
        java.util.Set<Path> real = new java.util.HashSet<>();
        for (String c : V1_CONTROLLERS) {
            Path base = ROOT.resolve(c);
            try {
                if (Files.isDirectory(base) && real.add(base.toRealPath())) found.add(base);
            } catch (IOException e) {
                // not mounted here
            }
        }
        return found;
    }

    /** The cgroup.procs files a process writes its pid to, to join this cgroup (one per v1 hierarchy). */
    public List<Path> procsFiles() {
        return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
    }

    public boolean v2() {
        return v2;
    }

    /** The directories that may hold a controller's files: all on v2, that controller's hierarchy on v1. */
    private List<Path> dirsOf(String controller) {
        if (v2) return dirs;
        return dirs.stream().filter(d -> java.util.Arrays.asList(ROOT.relativize(d).getName(0).toString().split(","))
                .contains(controller)).toList();
    }

    /** A counter file of the cgroup (e.g. memory.usage_in_bytes), 0 when unavailable. */
    public long read(String controller, String file) {
        for (Path dir : dirsOf(controller)) {
            try {
                String s = Files.readString(dir.resolve(file)).trim();
                return s.equals("max") ? 0 : Long.parseLong(s.split("\\s+")[0]);
            } catch (IOException | NumberFormatException e) {
                // try the next hierarchy
            }
        }
        return 0;
    }

    /** A "key value" line of a stat file such as cpu.stat. */
    public long readKey(String controller, String file, String key) {
        for (Path dir : dirsOf(controller)) {
            try {
                for (String line : Files.readAllLines(dir.resolve(file))) {
                    String[] kv = line.trim().split("\\s+");
                    if (kv.length == 2 && kv[0].equals(key)) return Long.parseLong(kv[1]);
                }
            } catch (IOException | NumberFormatException e) {
                // next
            }
        }
        return 0;
    }

    /**
     * How many processes of this cgroup the kernel's OOM killer has killed: {@code oom_kill} of memory.events (v2)
     * or memory.oom_control (v1); 0 without the memory controller.
     */
    public long oomKills() {
        return readKey("memory", v2 ? "memory.events" : "memory.oom_control", "oom_kill");
    }

    /** Removes the directories (only once no process is left in them). */
    public void delete() {
        for (Path dir : dirs) {
            try {
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot remove cgroup {0}: {1}", dir, e.getMessage());
            }
        }
    }
}
