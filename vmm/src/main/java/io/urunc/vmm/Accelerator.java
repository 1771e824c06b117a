package io.urunc.vmm;

/** CPU virtualisation backend for QEMU. {@code AUTO} is resolved by {@link AcceleratorDetector} before launch. */
public enum Accelerator { KVM, TCG, AUTO }
