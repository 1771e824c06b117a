package io.urunc.shim.runc;

/** A runc command failed; the message quotes runc's own words. */
public final class RuncException extends Exception {
    public RuncException(String message) {
        super(message);
    }
}
