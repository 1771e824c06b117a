package io.urunc.builder;

import io.urunc.image.Annotations;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Checks the com.urunc.unikernel.* labels of a Containerfile against what urunc can boot. */
final class UnikernelLabels {
    /** Unikernel type -> the monitors urunc runs it on. */
    static final Map<String, List<String>> MONITORS = monitors();
    static final Set<String> HYPERVISORS = Set.of("qemu", "firecracker", "cloud-hypervisor", "hvt", "spt");

    private UnikernelLabels() {}

    private static Map<String, List<String>> monitors() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("linux", List.of("qemu", "firecracker", "cloud-hypervisor"));
        m.put("unikraft", List.of("qemu", "firecracker"));
        m.put("rumprun", List.of("hvt", "spt"));
        m.put("mirage", List.of("qemu", "hvt", "spt"));
        m.put("mewz", List.of("qemu"));
        m.put("hermit", List.of("qemu"));
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The com.urunc.unikernel.* labels, sorted by key. */
    static Map<String, String> uruncLabels(Map<String, String> labels) {
        Map<String, String> out = new TreeMap<>();
        labels.forEach((k, v) -> {
            if (k.startsWith(Annotations.PREFIX)) out.put(k, v);
        });
        return out;
    }

    /**
     * Throws with every problem found (file:line of the label when there is one): required labels, known type and
     * monitor, the pair being supported, and binary/initrd/block being regular files of the image.
     */
    static void validate(Containerfile cf, Set<String> imageFiles) throws BuildException {
        Map<String, String> labels = cf.labels();
        List<String> problems = new ArrayList<>();
        for (String key : Annotations.REQUIRED) {
            String v = labels.get(key);
            if (v == null || v.isBlank()) problems.add(cf.fileName() + ": missing required label " + key);
        }
        String type = labels.getOrDefault(Annotations.UNIKERNEL_TYPE, "");
        String monitor = labels.getOrDefault(Annotations.HYPERVISOR, "");
        if (!type.isBlank() && !MONITORS.containsKey(type)) {
            problems.add(at(cf, Annotations.UNIKERNEL_TYPE) + "unknown unikernelType '" + type + "': expected one of "
                    + String.join(", ", MONITORS.keySet()));
        }
        if (!monitor.isBlank() && !HYPERVISORS.contains(monitor)) {
            problems.add(at(cf, Annotations.HYPERVISOR) + "unknown hypervisor '" + monitor + "': expected one of "
                    + String.join(", ", List.of("qemu", "firecracker", "cloud-hypervisor", "hvt", "spt")));
        }
        if (MONITORS.containsKey(type) && HYPERVISORS.contains(monitor) && !MONITORS.get(type).contains(monitor)) {
            problems.add(at(cf, Annotations.HYPERVISOR) + "urunc runs " + type + " unikernels on "
                    + String.join(" or ", MONITORS.get(type)) + ", not on " + monitor);
        }
        for (String key : List.of(Annotations.BINARY, Annotations.INITRD, Annotations.BLOCK)) {
            String v = labels.get(key);
            if (v == null || v.isBlank()) continue;
            String path = CopyResolver.normalizeImagePath(v);
            if (!imageFiles.contains(path)) {
                problems.add(at(cf, key) + key + "=" + v + ": no such file in the image (COPY it first)");
            }
        }
        String mount = labels.get(Annotations.MOUNT_ROOTFS);
        if (mount != null && !mount.equals("true") && !mount.equals("false")) {
            problems.add(at(cf, Annotations.MOUNT_ROOTFS) + Annotations.MOUNT_ROOTFS + " must be true or false, not '" + mount + "'");
        }
        if (labels.containsKey(Annotations.BLOCK_MOUNT_POINT) && !labels.containsKey(Annotations.BLOCK)) {
            problems.add(at(cf, Annotations.BLOCK_MOUNT_POINT) + Annotations.BLOCK_MOUNT_POINT + " is set without " + Annotations.BLOCK);
        }
        if (!problems.isEmpty()) throw new BuildException(String.join("\n", problems));
    }

    private static String at(Containerfile cf, String key) {
        int line = cf.labelLine(key);
        return line > 0 ? cf.fileName() + ":" + line + ": " : cf.fileName() + ": ";
    }
}
