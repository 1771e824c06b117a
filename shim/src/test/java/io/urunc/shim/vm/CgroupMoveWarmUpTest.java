package io.urunc.shim.vm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Which cgroup.procs file the warm-up process writes itself into: the one of the cgroup it is already in. */
class CgroupMoveWarmUpTest {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private static final String HYBRID = """
            9:name=systemd:/system.slice/containerd.service
            8:pids:/system.slice/containerd.service
            4:memory:/system.slice/containerd.service
            1:cpu,cpuacct:/system.slice/containerd.service
            0::/system.slice/containerd.service
            """;

    @Test
    void onV1TheFirstControllerHierarchyMountedByItsName() {
        Path pids = ROOT.resolve("pids/system.slice/containerd.service/cgroup.procs");
        assertEquals(Optional.of(pids), CgroupMoveWarmUp.procsFileOf(HYBRID, false, ROOT, Set.of(pids)::contains));
        // a named hierarchy (name=systemd) is mounted under another name: never taken
        Path cpu = ROOT.resolve("cpu,cpuacct/system.slice/containerd.service/cgroup.procs");
        assertEquals(Optional.of(cpu), CgroupMoveWarmUp.procsFileOf(HYBRID, false, ROOT, Set.of(cpu)::contains));
    }

    @Test
    void onV2TheUnifiedLine() {
        Path unified = ROOT.resolve("system.slice/containerd.service/cgroup.procs");
        assertEquals(Optional.of(unified), CgroupMoveWarmUp.procsFileOf(HYBRID, true, ROOT, p -> true));
        assertEquals(Optional.of(ROOT.resolve("cgroup.procs")), CgroupMoveWarmUp.procsFileOf("0::/\n", true, ROOT, p -> true));
    }

    @Test
    void nothingWhenTheFileIsNotThereOrThePathLeavesTheHierarchy() {
        assertEquals(Optional.empty(), CgroupMoveWarmUp.procsFileOf(HYBRID, false, ROOT, p -> false));
        // a process in a cgroup namespace sees paths such as "/.." for cgroups outside it
        assertEquals(Optional.empty(), CgroupMoveWarmUp.procsFileOf("0::/../x\n", true, ROOT, p -> true));
        assertEquals(Optional.empty(), CgroupMoveWarmUp.procsFileOf("garbage\n", true, ROOT, p -> true));
    }

    /** This very process: its own cgroup's procs file exists, and moving into it (what the warm-up does) is allowed. */
    @Test
    void findsTheCgroupOfThisProcess() throws Exception {
        String self = java.nio.file.Files.readString(Path.of("/proc/self/cgroup"));
        Optional<Path> procs = CgroupMoveWarmUp.procsFileOf(self, Cgroup.unifiedHierarchy(), ROOT, java.nio.file.Files::isRegularFile);
        assertTrue(procs.isPresent(), self);
        assertTrue(java.nio.file.Files.readAllLines(procs.get()).contains(Long.toString(ProcessHandle.current().pid())),
                procs.get() + " lists this process");
    }
}
