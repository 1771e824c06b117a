package io.urunc.vmm;

/** The guest's arguments, environment or network cannot be expressed on this unikernel type's command line. */
public class InvalidGuestSpecException extends IllegalArgumentException {
    public InvalidGuestSpecException(String message) { super(message); }
}
