package io.urunc.shim.netns;

import io.urunc.sys.HostNamespaces;
import io.urunc.sys.Libc;
import io.urunc.sys.NamespaceCommands;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A network namespace the shim creates for a task whose spec asks for a new one (docker does: its
 * prestart hook then moves the container's veth into it). Kept alive by a bind mount on a file, like
 * {@code ip netns add}; made by util-linux {@code unshare --net=FILE} in a child, never on a daemon thread.
 */
public final class OwnNetworkNamespace {
    private static final long TIMEOUT_SECONDS = 20;

    private OwnNetworkNamespace() {}

    /** Creates the namespace pinned at {@code file}, with loopback up. */
    public static Path create(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        if (!Files.exists(file)) Files.createFile(file);
        List<String> cmd = List.of(NamespaceCommands.UNSHARE.toString(), "--net=" + file, "--", "ip", "link", "set", "lo", "up");
        HostNamespaces.requireOnHost("unshare");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                out = "timed out after " + TIMEOUT_SECONDS + " s";
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            out = "interrupted";
        }
        if (p.isAlive() || p.exitValue() != 0) {
            remove(file);
            throw new IOException("cannot create a network namespace at " + file + " (" + String.join(" ", cmd) + "): " + out);
        }
        return file;
    }

    /** Unpins and removes the namespace file; idempotent. */
    public static void remove(Path file) {
        try {
            Libc.umount2(file.toString(), Libc.MNT_DETACH);
        } catch (SysException ignored) {
            // not mounted (any more)
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort: an unmounted empty file is harmless
        }
    }
}
