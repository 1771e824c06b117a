package io.urunc.shim.vm;

import io.urunc.storage.Volumes;
import io.urunc.sys.NamespaceCommands;
import io.urunc.vmm.BackendProcess;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of the virtiofsd serving one volume (QEMU's C virtiofsd). It runs as root, for it creates files
 * with the guest's ids, and is confined by its own sandbox: {@code -o sandbox=namespace} puts it in new mount, pid
 * and network namespaces pivoted into the shared directory (so it sees nothing else of the host), with its seccomp
 * filter and a reduced capability set (its defaults, always on). In front of it {@code unshare --mount
 * --propagation private} gives it a private copy of the host's mounts in which the volume's source is bound on a
 * fixed, empty directory of the task's run dir, made read-only there for a read-only volume: a guest that ignores
 * {@code ro} still gets EROFS from the host, and that mount vanishes with the process (nothing to unmount after a
 * crash). virtiofsd ends when the VMM closes its socket; its sandboxed child dies with it (parent-death signal).
 */
public final class Virtiofsd {
    /** $1 source, $2 the run dir's mount point, $3 ro|rw, then virtiofsd's command line. */
    static final String BIND_THEN_EXEC = "mount --bind -- \"$1\" \"$2\" || exit 125; "
            + "if [ \"$3\" = ro ]; then mount -o remount,bind,ro -- \"$2\" || exit 125; fi; shift 3; exec \"$@\"";

    private Virtiofsd() {}

    /** The backend for {@code volume}, served from {@code mountPoint} on {@code socket}. */
    public static BackendProcess backend(Path virtiofsd, String name, Volumes.Volume volume, Path mountPoint, Path socket) {
        requireNoComma(mountPoint, "virtiofsd mount point");
        List<String> argv = new ArrayList<>(List.of(NamespaceCommands.UNSHARE.toString(), "--mount", "--propagation", "private",
                "--", "/bin/sh", "-c", BIND_THEN_EXEC, name, volume.source().toString(), mountPoint.toString(),
                volume.readOnly() ? "ro" : "rw"));
        argv.addAll(List.of(virtiofsd.toString(), "--socket-path=" + socket, "-o", "source=" + mountPoint,
                "-o", "sandbox=namespace", "-o", "cache=auto", "-o", "log_level=warn"));
        return new BackendProcess(name, argv, socket);
    }

    /** virtiofsd reads {@code -o} as a comma-separated option list (libfuse, no escape). */
    private static void requireNoComma(Path p, String what) {
        if (p.toString().indexOf(',') >= 0) throw new IllegalArgumentException(what + " " + p + " contains ','");
    }
}
