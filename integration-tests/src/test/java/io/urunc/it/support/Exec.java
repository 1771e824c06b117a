package io.urunc.it.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs a command with a time limit and collects its output. */
public final class Exec {
    public record Result(List<String> command, int exit, String stdout, String stderr) {
        public Result ok() {
            if (exit != 0) throw new AssertionError(this.toString());
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> exit " + exit + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private Exec() {}

    public static Result run(Duration timeout, Map<String, String> env, String... command) {
        return run(timeout, env, List.of(command));
    }

    public static Result run(Duration timeout, Map<String, String> env, List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                return new Result(command, -1, out.getNow(""), "TIMEOUT after " + timeout + "\n" + err.getNow(""));
            }
            return new Result(command, p.exitValue(), out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS));
        } catch (Exception e) {
            throw new IllegalStateException("cannot run " + command + ": " + e, e);
        }
    }

    private static String read(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    public static List<String> concat(List<String> a, String... b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(List.of(b));
        return l;
    }
}
