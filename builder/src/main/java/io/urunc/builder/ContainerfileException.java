package io.urunc.builder;

/** A Containerfile that cannot be used; the message starts with {@code file:line:}. */
public final class ContainerfileException extends BuildException {
    private final String file;
    private final int line;

    public ContainerfileException(String file, int line, String problem) {
        super(file + ":" + line + ": " + problem);
        this.file = file;
        this.line = line;
    }

    public String file() { return file; }

    public int line() { return line; }
}
