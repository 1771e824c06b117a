package io.urunc.shim.vm;

import io.urunc.image.UnikernelMetadata;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.config.ConfigLoader;
import io.urunc.shim.config.ShimConfig;
import io.urunc.ttrpc.Code;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.LaunchPlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class VmPlannerTest {
    @TempDir
    Path dir;

    private final VmPlanner planner;

    VmPlannerTest() throws Exception {
        ShimConfig config = ConfigLoader.parse("[monitors.qemu]\naccelerator = \"tcg\"\npath = \"/bin/true\"\n", "test");
        planner = new VmPlanner(config);
    }

    private static UnikernelMetadata md(String type, String hypervisor, String binary) {
        return new UnikernelMetadata(type, hypervisor, binary, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), false, Map.of());
    }

    private Path rootfs() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/boot"));
        Files.writeString(rootfs.resolve("vmlinuz"), "kernel");
        return rootfs.getParent();
    }

    private TtrpcException refused(UnikernelMetadata md) {
        return assertThrows(TtrpcException.class, () -> planner.resolve(md, rootfs()));
    }

    @Test
    void imageErrorsNameTheKeyAndTheValue() {
        TtrpcException e = refused(md("linux", "vmware", "/boot/vmlinuz"));
        assertEquals(Code.INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().startsWith("com.urunc.unikernel.hypervisor: "), e.getMessage());
        assertTrue(e.getMessage().contains("vmware"), e.getMessage());

        e = refused(md("rumprun", "qemu", "/boot/vmlinuz"));
        assertTrue(e.getMessage().contains("rumprun cannot run on hypervisor qemu"), e.getMessage());

        e = refused(md("linux", "qemu", "/../../etc/shadow"));
        assertTrue(e.getMessage().startsWith("com.urunc.unikernel.binary: "), e.getMessage());

        e = refused(md("linux", "qemu", "/boot/missing"));
        assertTrue(e.getMessage().contains("/boot/missing"), e.getMessage());
    }

    @Test
    void theSpecsResourcesSizeTheVmAndQemuHoldsTheGuestUntilStart() throws Exception {
        Path rootfs = rootfs();
        Files.writeString(dir.resolve("config.json"), """
                {"process":{"args":["/init","hello world"],"env":["PATH=/bin","GREETING=hi"]},
                 "linux":{"resources":{"memory":{"limit":536870912},"cpu":{"quota":150000,"period":100000}}}}""");
        VmPlanner.Target target = planner.resolve(md("linux", "qemu", "/boot/vmlinuz"), rootfs);
        assertEquals(rootfs.resolve("boot/vmlinuz"), target.kernel());
        LaunchPlan plan = planner.plan("t1", target, Bundle.load(dir), Optional.empty(), Files.createDirectories(dir.resolve("run")), f -> {});
        List<String> argv = plan.argv();
        assertEquals("/bin/true", argv.get(0), "the configured monitor path");
        assertEquals("-S", argv.get(1), "held until Start");
        assertEquals("512M", argv.get(argv.indexOf("-m") + 1), "memory limit 512 MiB");
        assertEquals("2", argv.get(argv.indexOf("-smp") + 1), "1.5 CPUs round up to 2 vCPUs");
        String append = argv.get(argv.indexOf("-append") + 1);
        assertTrue(append.contains("\"hello world\""), append);
        assertTrue(append.contains("GREETING=hi") && !append.contains("PATH=/bin"), append);
        assertTrue(plan.controlSocket().isPresent());
    }

    @Test
    void cloudHypervisorCannotHoldTheGuestSoItIsPlannedToStartAtStart() throws Exception {
        VmPlanner ch = new VmPlanner(ConfigLoader.parse("[monitors.cloud-hypervisor]\npath = \"/bin/true\"\n", "test"));
        Files.writeString(dir.resolve("config.json"), "{\"process\":{\"args\":[\"/init\"]}}");
        Path run = Files.createDirectories(dir.resolve("run"));
        LaunchPlan plan = ch.plan("t1", ch.resolve(md("linux", "cloud-hypervisor", "/boot/vmlinuz"), rootfs()), Bundle.load(dir), Optional.empty(), run, f -> {});
        assertFalse(plan.guestHeld());
        assertFalse(plan.argv().contains("-S"));
        assertEquals(run.resolve("kernel").toString(), plan.argv().get(plan.argv().indexOf("--kernel") + 1));
        assertEquals(Optional.of(run.resolve("ch.sock")), plan.controlSocket());
        assertTrue(planner.plan("t2", planner.resolve(md("linux", "qemu", "/boot/vmlinuz"), rootfs()), Bundle.load(dir), Optional.empty(),
                Files.createDirectories(dir.resolve("run2")), f -> {}).guestHeld());
    }

    @Test
    void theVmmGetsPrivateCopiesNeverAPathIntoTheImage() throws Exception {
        Path rootfs = rootfs();
        // "<rootfs>/i,/etc/hostname" would be two multiboot modules to QEMU, the second a host file
        Files.writeString(rootfs.resolve("i"), "decoy");
        Files.createDirectories(rootfs.resolve("i,/etc"));
        Files.writeString(rootfs.resolve("i,/etc/hostname"), "image initrd");
        Files.writeString(dir.resolve("config.json"), "{\"process\":{\"args\":[\"app\"]}}");
        UnikernelMetadata md = new UnikernelMetadata("unikraft", "qemu", "/boot/vmlinuz", Optional.empty(),
                Optional.of("/i,/etc/hostname"), Optional.empty(), Optional.empty(), Optional.empty(), false, Map.of());
        Path run = Files.createDirectories(dir.resolve("run"));
        LaunchPlan plan = planner.plan("t1", planner.resolve(md, rootfs), Bundle.load(dir), Optional.empty(), run, f -> {});
        List<String> argv = plan.argv();
        assertEquals(run.resolve("kernel").toString(), argv.get(argv.indexOf("-kernel") + 1));
        assertEquals(run.resolve("initrd").toString(), argv.get(argv.indexOf("-initrd") + 1));
        assertEquals("kernel", Files.readString(run.resolve("kernel")));
        assertEquals("image initrd", Files.readString(run.resolve("initrd")));
        assertTrue(argv.stream().noneMatch(a -> a.contains(rootfs.toString())), "no argument points into the rootfs: " + argv);
        assertEquals(List.of(run.resolve("kernel"), run.resolve("initrd")), plan.bootFiles());
    }
}
