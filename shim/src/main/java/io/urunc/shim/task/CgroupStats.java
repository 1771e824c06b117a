package io.urunc.shim.task;

import com.google.protobuf.Any;
import io.urunc.shim.vm.Cgroup;

/** The VMM's cgroup figures as the Metrics message CRI accepts (cgroups v1 or v2 by the host's mode). */
final class CgroupStats {
    private CgroupStats() {}

    static Any metrics(Cgroup cg) {
        if (cg.v2()) {
            var m = io.urunc.proto.cgroups.v2.Metrics.newBuilder()
                    .setPids(io.urunc.proto.cgroups.v2.PidsStat.newBuilder().setCurrent(cg.read("pids", "pids.current")))
                    .setCpu(io.urunc.proto.cgroups.v2.CPUStat.newBuilder()
                            .setUsageUsec(cg.readKey("cpu", "cpu.stat", "usage_usec"))
                            .setUserUsec(cg.readKey("cpu", "cpu.stat", "user_usec"))
                            .setSystemUsec(cg.readKey("cpu", "cpu.stat", "system_usec")))
                    .setMemory(io.urunc.proto.cgroups.v2.MemoryStat.newBuilder()
                            .setUsage(cg.read("memory", "memory.current"))
                            .setAnon(cg.readKey("memory", "memory.stat", "anon"))
                            .setInactiveFile(cg.readKey("memory", "memory.stat", "inactive_file")))
                    .build();
            return TaskService.any(m);
        }
        var m = io.urunc.proto.cgroups.v1.Metrics.newBuilder()
                .setPids(io.urunc.proto.cgroups.v1.PidsStat.newBuilder().setCurrent(cg.read("pids", "pids.current")))
                .setCpu(io.urunc.proto.cgroups.v1.CPUStat.newBuilder().setUsage(
                        io.urunc.proto.cgroups.v1.CPUUsage.newBuilder().setTotal(cg.read("cpuacct", "cpuacct.usage"))))
                // CRI's working set (what kubectl top shows) is usage less the inactive page cache.
                .setMemory(io.urunc.proto.cgroups.v1.MemoryStat.newBuilder()
                        .setRss(cg.readKey("memory", "memory.stat", "rss"))
                        .setTotalRss(cg.readKey("memory", "memory.stat", "total_rss"))
                        .setTotalInactiveFile(cg.readKey("memory", "memory.stat", "total_inactive_file"))
                        .setUsage(
                        io.urunc.proto.cgroups.v1.MemoryEntry.newBuilder()
                                .setUsage(cg.read("memory", "memory.usage_in_bytes"))
                                .setMax(cg.read("memory", "memory.max_usage_in_bytes"))))
                .build();
        return TaskService.any(m);
    }
}
