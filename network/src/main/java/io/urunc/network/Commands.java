package io.urunc.network;

import io.urunc.sys.HostNamespaces;
import io.urunc.sys.NamespaceCommands;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs iproute2, nftables and sysctl commands ({@code ip}, {@code tc}, {@code nft}, {@code sysctl}) inside a network namespace, with {@code nsenter --net} in
 * front: the child joins the namespace after the fork, the daemon's thread never does ({@link HostNamespaces}).
 */
final class Commands {
    private static final long TIMEOUT_SECONDS = 20;
    private static final List<String> FALLBACK_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

    private final Path netns;
    private final java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();

    private Commands(Path netns) {
        this.netns = netns;
    }

    /** Commands for the namespace at {@code netns} (a bind-mounted file or {@code /proc/PID/ns/net}). */
    static Commands in(Path netns) throws NetworkException {
        if (!Files.exists(netns)) throw new NetworkException("network namespace " + netns + " does not exist");
        return new Commands(netns);
    }

    Path netns() {
        return netns;
    }

    /** How many commands were started through this instance (each one nsenter exec'ing the tool). */
    int started() {
        return started.get();
    }

    /** Runs the command and returns its stdout; a non-zero exit throws with the command line and stderr. */
    String run(String... argv) throws NetworkException {
        Result r = tryRun(argv);
        if (r.exitCode() != 0) {
            throw new CommandFailedException(String.join(" ", argv), netns(), r.exitCode(), r.stderr().strip());
        }
        return r.stdout();
    }

    /** As {@link #run}, with {@code input} on the command's stdin (an {@code nft -f -} script). */
    String runWithInput(String input, String... argv) throws NetworkException {
        Result r = tryRunWithInput(input, argv);
        if (r.exitCode() != 0) {
            throw new CommandFailedException(String.join(" ", argv), netns(), r.exitCode(), r.stderr().strip());
        }
        return r.stdout();
    }

    /**
     * Runs {@code batch} as one {@code tool -batch -} (or one command a line when its words are not batchable);
     * a failed line throws {@link Batch.Failed}, which names it and what ran before it.
     */
    void run(Batch batch) throws NetworkException {
        if (batch.size() == 0) return;
        if (batch.batchable()) {
            Result r = tryRunWithInput(batch.script(), batch.tool(), "-batch", "-");
            if (r.ok()) return;
            throw new Batch.Failed(batch, Batch.failedLine(r.stderr()).orElse(-1), netns, r.exitCode(),
                    Batch.errorWithoutTrailer(r.stderr()));
        }
        for (int i = 0; i < batch.size(); i++) {
            Result r = tryRun(batch.argv(i));
            if (!r.ok()) throw new Batch.Failed(batch, i, netns, r.exitCode(), r.stderr().strip());
        }
    }

    /**
     * Runs batches of different tools (the tap's {@code ip} batch, then the {@code tc} rules on it) in one exec: a
     * POSIX shell in the namespace feeds each script to its tool, in order, and stops at the first that fails, saying
     * which ({@value #CHAIN_FAILED}K). A failure throws {@link Batch.Failed} for that batch, with the undos of the
     * batches that ran before it. Batches with words a batch reader would take apart run one command a line.
     */
    void run(List<Batch> batches) throws NetworkException {
        List<Batch> todo = batches.stream().filter(b -> b.size() > 0).toList();
        if (todo.size() <= 1 || !todo.stream().allMatch(Batch::batchable)) {
            for (int k = 0; k < todo.size(); k++) {
                try {
                    run(todo.get(k));
                } catch (Batch.Failed e) {
                    throw e.after(undosOf(todo.subList(0, k)));
                }
            }
            return;
        }
        List<String> argv = new ArrayList<>(List.of("sh", "-c", CHAIN, "sh"));
        for (Batch b : todo) {
            argv.add(resolve(b.tool()));
            argv.add(b.script());
        }
        Result r = tryRun(argv.toArray(String[]::new));
        if (r.ok()) return;
        java.util.regex.Matcher m = CHAIN_FAILED_AT.matcher(r.stderr());
        int k = m.find() ? Integer.parseInt(m.group(1)) - 1 : -1;
        String stderr = Batch.errorWithoutTrailer(CHAIN_FAILED_LINE.matcher(r.stderr()).replaceAll(""));
        if (k < 0 || k >= todo.size()) {
            // the shell itself failed: which batches ran is unknown, so only what is surely ours is undone (see Batch)
            List<List<String>> owned = new ArrayList<>();
            for (int i = todo.size() - 2; i >= 0; i--) owned.addAll(todo.get(i).undosAfterFailureAt(java.util.OptionalInt.empty()));
            throw new Batch.Failed(todo.getLast(), -1, netns, r.exitCode(), stderr).after(owned);
        }
        throw new Batch.Failed(todo.get(k), Batch.failedLine(r.stderr()).orElse(-1), netns, r.exitCode(), stderr)
                .after(undosOf(todo.subList(0, k)));
    }

    /** The shell program of {@link #run(List)}: its arguments are pairs (tool, script). */
    static final String CHAIN_FAILED = "urunc: failed batch ";
    /** The shell's word naming the batch that failed (1-based), and the line it prints it on (left out of the error). */
    private static final java.util.regex.Pattern CHAIN_FAILED_AT =
            java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(CHAIN_FAILED) + "(\\d+)");
    private static final java.util.regex.Pattern CHAIN_FAILED_LINE =
            java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(CHAIN_FAILED) + "\\d+\\s*$");
    static final String CHAIN = "n=0; while [ $# -gt 0 ]; do n=$((n+1)); printf '%s' \"$2\" | \"$1\" -batch - "
            + "|| { echo \"" + CHAIN_FAILED + "$n\" >&2; exit 1; }; shift 2; done";

    /** The undos of batches that ran entirely, last first. */
    private static List<List<String>> undosOf(List<Batch> ran) {
        List<List<String>> undos = new ArrayList<>();
        for (int i = ran.size() - 1; i >= 0; i--) undos.addAll(ran.get(i).undos());
        return undos;
    }

    /** As {@link #run(Batch)} without judging the outcome: every line is tried ({@code -force}), for cleanup. */
    Result tryRun(Batch batch) throws NetworkException {
        if (batch.batchable()) return tryRunWithInput(batch.script(), batch.tool(), "-force", "-batch", "-");
        Result last = new Result(0, "", "");
        StringBuilder err = new StringBuilder();
        for (int i = 0; i < batch.size(); i++) {
            Result r = tryRun(batch.argv(i));
            if (!r.ok()) {
                last = r;
                err.append(String.join(" ", batch.argv(i))).append(": ").append(r.stderr().strip()).append('\n');
            }
        }
        return new Result(last.exitCode(), "", err.toString());
    }

    /** Runs the command and reports its outcome without judging it (for idempotent cleanup). */
    Result tryRun(String... argv) throws NetworkException {
        return tryRunWithInput(null, argv);
    }

    Result tryRunWithInput(String input, String... argv) throws NetworkException {
        List<String> command = new ArrayList<>(List.of(argv));
        command.set(0, resolve(argv[0]));
        try {
            HostNamespaces.requireOnHost(argv[0]);
            started.incrementAndGet();
            return start(NamespaceCommands.inNetwork(netns, command), input);
        } catch (IOException | RuntimeException e) {
            throw new NetworkException("cannot run " + String.join(" ", argv) + " in " + netns + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException("interrupted while running " + String.join(" ", argv) + " in " + netns, e);
        }
    }

    private static Result start(List<String> command, String input) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (input == null) pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p = pb.start();
        if (input != null) {
            try (var in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
        }
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()),
                Thread::startVirtualThread);
        String out = readAll(p.getInputStream());
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            return new Result(-1, out, "timed out after " + TIMEOUT_SECONDS + " s");
        }
        return new Result(p.exitValue(), out, err.join());
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Absolute path of a tool: shims often run with a PATH lacking the sbin directories. */
    static String resolve(String tool) throws NetworkException {
        if (tool.contains("/")) return tool;
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) dirs.addAll(List.of(path.split(":")));
        dirs.addAll(FALLBACK_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, tool);
            if (Files.isExecutable(candidate)) return candidate.toString();
        }
        throw new NetworkException("'" + tool + "' not found in PATH or " + FALLBACK_DIRS + " (install iproute2, nftables, procps)");
    }

    record Result(int exitCode, String stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }
    }
}
