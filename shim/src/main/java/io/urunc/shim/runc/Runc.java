package io.urunc.shim.runc;

import io.urunc.sys.HostNamespaces;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs runc commands. A failure becomes a {@link RuncException} quoting runc: its stderr when it wrote
 * one, else the last error it logged to log.json during this command.
 */
final class Runc {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Where the command's stdio goes; {@link #PIPES} captures stdout and stderr. */
    record Stdio(Redirect in, Redirect out, Redirect err) {}

    static final Stdio PIPES = new Stdio(Redirect.from(new File("/dev/null")), Redirect.PIPE, Redirect.PIPE);

    private Runc() {}

    /** Runs the command with captured output and returns its stdout. */
    static String run(List<String> argv, Path logFile) throws RuncException {
        return run(argv, logFile, PIPES);
    }

    static String run(List<String> argv, Path logFile, Stdio stdio) throws RuncException {
        String action = action(argv);
        long logOffset = size(logFile);
        ProcessBuilder pb = new ProcessBuilder(argv).redirectInput(stdio.in()).redirectOutput(stdio.out())
                .redirectError(stdio.err());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", PATH);
        Process p;
        try {
            HostNamespaces.requireOnHost("runc " + action);
            p = pb.start();
        } catch (IllegalStateException e) {
            throw new RuncException("runc " + action + ": " + e.getMessage());
        } catch (IOException e) {
            throw new RuncException("runc " + action + ": cannot execute " + argv.getFirst() + ": " + e.getMessage());
        }
        CompletableFuture<String> out = stdio.out() == Redirect.PIPE ? drain(p.getInputStream()) : done();
        CompletableFuture<String> err = stdio.err() == Redirect.PIPE ? drain(p.getErrorStream()) : done();
        int exit;
        try {
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new RuncException("runc " + action + ": no answer within " + TIMEOUT.toSeconds() + " s");
            }
            exit = p.exitValue();
            String stdout = out.get(5, TimeUnit.SECONDS);
            String stderr = err.get(5, TimeUnit.SECONDS).strip();
            if (exit == 0) return stdout;
            String why = stderr.isEmpty()
                    ? RuncLog.lastError(logFile, logOffset).orElse("exit status " + exit) : stderr;
            // runc's own message usually starts "runc <action> failed:" already.
            throw new RuncException(why.startsWith("runc ") ? why : "runc " + action + " failed: " + why);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new RuncException("runc " + action + ": interrupted");
        } catch (ExecutionException | TimeoutException e) {
            throw new RuncException("runc " + action + ": output not readable: " + e);
        }
    }

    /** The action word of a runc command line: the first argument after the global options. */
    static String action(List<String> argv) {
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("--root") || a.equals("--log") || a.equals("--log-format")) {
                i++;
            } else if (!a.startsWith("-")) {
                return a;
            }
        }
        return "?";
    }

    private static long size(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    private static CompletableFuture<String> done() {
        return CompletableFuture.completedFuture("");
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual().name("runc-output").start(() -> {
            try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.complete("");
            }
        });
        return f;
    }

    /** For cleanup paths: runs the command and reports whether it worked, never throwing. */
    static Optional<String> quietly(List<String> argv, Path logFile) {
        try {
            return Optional.of(run(argv, logFile));
        } catch (RuncException e) {
            return Optional.empty();
        }
    }
}
