package io.urunc.builder;

/** A build that cannot go on; the message is meant for the user as it is. */
public class BuildException extends Exception {
    public BuildException(String message) {
        super(message);
    }

    public BuildException(String message, Throwable cause) {
        super(message, cause);
    }
}
