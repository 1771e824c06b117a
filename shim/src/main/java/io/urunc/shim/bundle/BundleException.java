package io.urunc.shim.bundle;

/** A bundle that cannot be used, with the reason naming the file or field. */
public final class BundleException extends Exception {
    public BundleException(String message) {
        super(message);
    }
}
