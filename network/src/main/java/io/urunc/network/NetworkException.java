package io.urunc.network;

/** Attaching a VM to a network namespace failed; the message names the step and the object involved. */
public class NetworkException extends Exception {
    public NetworkException(String message) {
        super(message);
    }

    public NetworkException(String message, Throwable cause) {
        super(message, cause);
    }
}
