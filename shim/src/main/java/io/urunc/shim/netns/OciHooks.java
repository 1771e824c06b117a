package io.urunc.shim.netns;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.io.DrainedOutput;
import io.urunc.sys.HostNamespaces;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs OCI createRuntime/prestart hooks as runc does: each gets the container state on stdin; a hook that
 * fails fails the create. Docker's network setup is such a hook (libnetwork-setkey), and it dispatches on
 * its argv[0], so argv[0] is set apart from the program path.
 */
public final class OciHooks {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_TIMEOUT_SECONDS = 60;
    private static final int MAX_OUTPUT_SHOWN = 4096;

    private OciHooks() {}

    public static String state(String id, long pid, Path bundle, Map<String, String> annotations) {
        ObjectNode s = JSON.createObjectNode();
        s.put("ociVersion", "1.0.2");
        s.put("id", id);
        s.put("status", "created");
        s.put("pid", pid);
        s.put("bundle", bundle.toString());
        s.set("annotations", JSON.valueToTree(annotations));
        return s.toString();
    }

    public static void run(List<Bundle.Hook> hooks, String stateJson) throws IOException {
        for (Bundle.Hook hook : hooks) run(hook, stateJson);
    }

    static List<String> argv(Bundle.Hook hook) {
        // bash's `exec -a NAME` runs PATH with argv[0] = NAME
        List<String> cmd = new ArrayList<>(List.of("/bin/bash", "-c", "p=$1; shift; exec -a \"$1\" \"$p\" \"${@:2}\"",
                "oci-hook", hook.path()));
        cmd.addAll(hook.args());
        return cmd;
    }

    private static void run(Bundle.Hook hook, String stateJson) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(argv(hook)).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.clear();
        for (String kv : hook.env()) {
            int eq = kv.indexOf('=');
            if (eq > 0) env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        HostNamespaces.requireOnHost("hook " + hook.path());
        Process p = pb.start();
        DrainedOutput output = DrainedOutput.start(p.getInputStream(), MAX_OUTPUT_SHOWN);
        try (OutputStream in = p.getOutputStream()) {
            in.write(stateJson.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // a hook that does not read its stdin is fine
        }
        int timeout = hook.timeoutSeconds().orElse(DEFAULT_TIMEOUT_SECONDS);
        try {
            if (!p.waitFor(timeout, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("hook " + hook.path() + " timed out after " + timeout + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running hook " + hook.path());
        }
        if (p.exitValue() != 0) {
            String out = output.text(Duration.ofSeconds(1));
            throw new IOException("hook " + hook.path() + " (" + hook.args().getFirst() + ") failed with exit status "
                    + p.exitValue() + (out.isEmpty() ? "" : ": " + out));
        }
    }
}
