package io.urunc.vmm;

public record VmResources(int memoryMb, int vcpus) {
    public VmResources {
        if (memoryMb < 1) throw new IllegalArgumentException("memoryMb must be >= 1, got " + memoryMb);
        if (vcpus < 1) throw new IllegalArgumentException("vcpus must be >= 1, got " + vcpus);
    }
}
