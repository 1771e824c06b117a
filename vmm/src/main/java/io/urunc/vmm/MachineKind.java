package io.urunc.vmm;

/** QEMU machine model. MICROVM uses virtio-mmio devices; PC and Q35 use virtio-pci. */
public enum MachineKind {
    MICROVM("microvm", "-device"), PC("pc", "-pci"), Q35("q35", "-pci");

    private final String qemuName;
    private final String virtioSuffix;

    MachineKind(String qemuName, String virtioSuffix) {
        this.qemuName = qemuName;
        this.virtioSuffix = virtioSuffix;
    }

    public String qemuName() { return qemuName; }

    /** QEMU device name for a virtio device on this machine, e.g. "net" -> virtio-net-device or virtio-net-pci. */
    public String virtioDevice(String kind) { return "virtio-" + kind + virtioSuffix; }
}
