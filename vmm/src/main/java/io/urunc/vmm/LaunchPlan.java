package io.urunc.vmm;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How to start the VMM: write {@code filesToWrite} (path -> content), then exec {@code argv} with the guest
 * console on the process's stdio. {@code controlSocket} is where the VMM's control API will listen, if any.
 * {@code bootFiles} are private copies the VMM reads only while it starts (kernel, initrd): once its control
 * socket answers they have been loaded and can go. {@code guestHeld}: the VMM starts with the guest stopped until
 * {@link VmControl#resume()} ({@link Hypervisor#holdGuest}).
 */
public record LaunchPlan(List<String> argv, Map<Path, String> filesToWrite, Optional<Path> controlSocket, List<Path> bootFiles,
                         boolean guestHeld) {
    public LaunchPlan {
        argv = List.copyOf(argv);
        filesToWrite = Map.copyOf(filesToWrite);
        controlSocket = controlSocket == null ? Optional.empty() : controlSocket;
        bootFiles = bootFiles == null ? List.of() : List.copyOf(bootFiles);
    }

    public LaunchPlan(List<String> argv, Map<Path, String> filesToWrite, Optional<Path> controlSocket) {
        this(argv, filesToWrite, controlSocket, List.of(), false);
    }

    public LaunchPlan withBootFiles(List<Path> files) {
        return new LaunchPlan(argv, filesToWrite, controlSocket, files, guestHeld);
    }

    /** This plan with {@code vmmArgs} inserted right after the binary, the guest then held until resumed. */
    public LaunchPlan heldBy(List<String> vmmArgs) {
        List<String> a = new java.util.ArrayList<>(argv);
        a.addAll(1, vmmArgs);
        return new LaunchPlan(a, filesToWrite, controlSocket, bootFiles, true);
    }

    /** Writes {@link #filesToWrite} (owner-only permissions): call before starting {@link #argv}. */
    public void writeFiles() throws java.io.IOException {
        for (var e : filesToWrite.entrySet()) {
            java.nio.file.Files.writeString(e.getKey(), e.getValue());
            java.nio.file.Files.setPosixFilePermissions(e.getKey(), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }
}
