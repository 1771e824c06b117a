package io.urunc.image;

/**
 * The container carries unikernel metadata (some {@code com.urunc.unikernel.*} key) but it cannot be used:
 * a required key is missing, a value does not decode, urunc.json is unreadable... The message names the key
 * and where its value came from.
 */
public final class InvalidMetadataException extends Exception {
    public InvalidMetadataException(String message) {
        super(message);
    }

    public InvalidMetadataException(String message, Throwable cause) {
        super(message, cause);
    }
}
