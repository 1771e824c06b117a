package io.urunc.vmm;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A process the VMM needs running before it starts, e.g. the virtiofsd behind a {@link SharedDirectory}: started
 * with {@code argv}, ready once it listens on {@code socket}, and a part of the task: it goes when the task goes.
 */
public record BackendProcess(String name, List<String> argv, Path socket) {
    public BackendProcess {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(socket, "socket");
        argv = List.copyOf(argv);
        if (argv.isEmpty()) throw new IllegalArgumentException("backend " + name + ": empty command line");
    }
}
