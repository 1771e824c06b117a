package io.urunc.shim.config;

public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
