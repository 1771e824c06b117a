package io.urunc.vmm;

/** Where the guest's root filesystem comes from. */
public enum RootKind { NONE, INITRD, BLOCK, SHARED_9P, VIRTIOFS }
