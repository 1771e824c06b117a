package io.urunc.vmm.firecracker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmControl;
import io.urunc.vmm.VmmException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Firecracker without its API socket: {@code firecracker --no-api --config-file <runDir>/vmconfig.json}, the
 * whole VM described in that file (boot-source, machine-config, drives, network-interfaces). Firecracker always
 * uses KVM and its built-in seccomp filters ({@code --no-seccomp} when seccomp is off). The guest console is the
 * serial port on Firecracker's stdio; the exit status is passed through unchanged.
 */
public final class FirecrackerHypervisor implements Hypervisor {
    public static final String CONFIG_FILE = "vmconfig.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override public String name() { return "firecracker"; }

    @Override public String defaultBinary() { return "firecracker"; }

    @Override
    public LaunchPlan plan(VmConfig c) throws VmmException {
        if (!c.sharedDirs().isEmpty())
            throw new VmmException("firecracker has no shared file system device (no virtiofs, no 9p): the directory volume shared as '"
                    + c.sharedDirs().getFirst().tag() + "' cannot be passed to the guest");
        Path configFile = c.runDir().resolve(CONFIG_FILE);
        List<String> argv = new ArrayList<>(List.of(c.hypervisorBinary().toString(), "--no-api", "--config-file", configFile.toString()));
        if (!c.seccomp()) argv.add("--no-seccomp");
        argv.addAll(c.typeExtraArgs());
        return new LaunchPlan(argv, Map.of(configFile, configJson(c)), Optional.empty());
    }

    static String configJson(VmConfig c) throws VmmException {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode boot = root.putObject("boot-source");
        boot.put("kernel_image_path", c.kernel().toString());
        boot.put("boot_args", c.kernelCmdline());
        c.initrd().ifPresent(i -> boot.put("initrd_path", i.toString()));
        ObjectNode machine = root.putObject("machine-config");
        machine.put("vcpu_count", c.resources().vcpus());
        machine.put("mem_size_mib", c.resources().memoryMb());
        machine.put("smt", false);
        machine.put("track_dirty_pages", false);
        ArrayNode drives = root.putArray("drives");
        for (BlockDevice b : c.blocks()) {
            // The unikernel type writes root= itself; is_root_device would make Firecracker add a second one.
            drives.addObject().put("drive_id", b.id()).put("path_on_host", b.pathForVmm().toString())
                    .put("is_root_device", false).put("is_read_only", b.readOnly());
        }
        ArrayNode nics = root.putArray("network-interfaces");
        c.net().ifPresent(n -> nics.addObject().put("iface_id", "net1").put("guest_mac", n.mac()).put("host_dev_name", n.tapName()));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new VmmException("cannot write Firecracker config: " + e.getMessage(), e);
        }
    }

    @Override public int containerExitCode(int vmmExitStatus) { return vmmExitStatus; }

    @Override public Optional<VmControl> control(LaunchPlan plan) { return Optional.empty(); }
}
