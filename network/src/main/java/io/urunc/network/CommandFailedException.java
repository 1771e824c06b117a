package io.urunc.network;

import java.nio.file.Path;

/** An {@code ip}/{@code tc} command failed inside the namespace; carries its stderr for the caller's message. */
class CommandFailedException extends NetworkException {
    private final String stderr;

    CommandFailedException(String commandLine, Path netns, int exitCode, String stderr) {
        super("'" + commandLine + "' in " + netns + " failed (exit " + exitCode + "): " + stderr);
        this.stderr = stderr;
    }

    String stderr() {
        return stderr;
    }
}
