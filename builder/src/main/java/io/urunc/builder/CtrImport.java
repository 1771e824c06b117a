package io.urunc.builder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Imports an OCI tar into containerd with {@code ctr -a SOCKET -n NS images import}. */
public final class CtrImport {
    private CtrImport() {}

    public static List<String> command(String ctr, Path socket, String namespace, Path archive) {
        return List.of(ctr, "-a", socket.toString(), "-n", namespace, "images", "import", archive.toString());
    }

    /** Runs the import and returns ctr's output; throws with that output when ctr fails or is missing. */
    public static String run(Path socket, String namespace, Path archive) throws BuildException {
        String ctr = System.getenv().getOrDefault("URUNC_BUILD_CTR", "ctr");
        List<String> cmd = command(ctr, socket, namespace, archive);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new BuildException("cannot run " + ctr + " (is containerd's ctr installed and on PATH?): " + e.getMessage(), e);
        }
        try {
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new BuildException(String.join(" ", cmd) + " did not finish in 10 minutes");
            }
            if (p.exitValue() != 0) {
                throw new BuildException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + output.strip());
            }
            return output;
        } catch (IOException e) {
            throw new BuildException("reading ctr's output failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BuildException("interrupted while importing into containerd");
        }
    }
}
