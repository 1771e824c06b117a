package io.urunc.vmm;

import io.urunc.vmm.cloudhypervisor.CloudHypervisor;
import io.urunc.vmm.firecracker.FirecrackerHypervisor;
import io.urunc.vmm.qemu.QemuHypervisor;
import io.urunc.vmm.solo5.Solo5Hypervisor;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/** Registry of hypervisor adapters by annotation name. */
public final class Hypervisors {
    private static final Map<String, Supplier<Hypervisor>> KNOWN = new TreeMap<>(Map.of(
            "qemu", QemuHypervisor::new,
            "firecracker", FirecrackerHypervisor::new,
            "cloud-hypervisor", CloudHypervisor::new,
            "hvt", Solo5Hypervisor::hvt,
            "spt", Solo5Hypervisor::spt));

    private Hypervisors() {}

    public static Hypervisor byName(String name) throws VmmException {
        Supplier<Hypervisor> s = name == null ? null : KNOWN.get(name);
        if (s == null) throw new VmmException("unknown hypervisor '" + name + "' (known: " + String.join(", ", KNOWN.keySet()) + ")");
        return s.get();
    }

    public static Set<String> names() { return java.util.Collections.unmodifiableSet(KNOWN.keySet()); }
}
