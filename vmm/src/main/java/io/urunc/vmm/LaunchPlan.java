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
 * {@link VmControl#resume()} ({@link Hypervisor#holdGuest}). {@code backends} must be running before {@code argv}
 * starts (virtiofsd for each shared directory). {@code inheritedFiles}: descriptor number in the VMM -> a file
 * already opened by the shim, named by a {@code /proc/<pid>/fd/<n>} path, which the VMM gets open on that number
 * (QEMU {@code -add-fd}): never a path it would resolve itself.
 */
public record LaunchPlan(List<String> argv, Map<Path, String> filesToWrite, Optional<Path> controlSocket, List<Path> bootFiles,
                         boolean guestHeld, List<BackendProcess> backends, Map<Integer, InheritedFile> inheritedFiles) {
    /** A descriptor the shim holds ({@code openedAs}, a /proc fd path) to give the VMM, writable or not. */
    public record InheritedFile(Path openedAs, boolean writable) {}

    public LaunchPlan {
        argv = List.copyOf(argv);
        filesToWrite = Map.copyOf(filesToWrite);
        controlSocket = controlSocket == null ? Optional.empty() : controlSocket;
        bootFiles = bootFiles == null ? List.of() : List.copyOf(bootFiles);
        backends = backends == null ? List.of() : List.copyOf(backends);
        inheritedFiles = inheritedFiles == null ? Map.of() : Map.copyOf(inheritedFiles);
    }

    public LaunchPlan(List<String> argv, Map<Path, String> filesToWrite, Optional<Path> controlSocket) {
        this(argv, filesToWrite, controlSocket, List.of(), false, List.of(), Map.of());
    }

    public LaunchPlan withBootFiles(List<Path> files) {
        return new LaunchPlan(argv, filesToWrite, controlSocket, files, guestHeld, backends, inheritedFiles);
    }

    public LaunchPlan withBackends(List<BackendProcess> processes) {
        return new LaunchPlan(argv, filesToWrite, controlSocket, bootFiles, guestHeld, processes, inheritedFiles);
    }

    public LaunchPlan withInheritedFiles(Map<Integer, InheritedFile> files) {
        return new LaunchPlan(argv, filesToWrite, controlSocket, bootFiles, guestHeld, backends, files);
    }

    /** This plan with {@code vmmArgs} inserted right after the binary, the guest then held until resumed. */
    public LaunchPlan heldBy(List<String> vmmArgs) {
        List<String> a = new java.util.ArrayList<>(argv);
        a.addAll(1, vmmArgs);
        return new LaunchPlan(a, filesToWrite, controlSocket, bootFiles, true, backends, inheritedFiles);
    }

    /** Writes {@link #filesToWrite} (owner-only permissions): call before starting {@link #argv}. */
    public void writeFiles() throws java.io.IOException {
        for (var e : filesToWrite.entrySet()) {
            java.nio.file.Files.writeString(e.getKey(), e.getValue());
            java.nio.file.Files.setPosixFilePermissions(e.getKey(), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
    }
}
