package io.urunc.vmm;

/** A VM cannot be configured or launched as asked; the message names the problem. */
public class VmmException extends Exception {
    public VmmException(String message) { super(message); }
    public VmmException(String message, Throwable cause) { super(message, cause); }
}
