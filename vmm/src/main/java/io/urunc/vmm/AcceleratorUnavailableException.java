package io.urunc.vmm;

/** KVM was asked for explicitly but cannot run a guest on this host; the message says why. */
public class AcceleratorUnavailableException extends IllegalStateException {
    public AcceleratorUnavailableException(String message) { super(message); }
}
