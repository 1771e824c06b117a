package io.urunc.network;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Commands of one tool ({@code ip} or {@code tc}) run as one {@code tool -batch -} (one exec instead of one per
 * command), each with the command that undoes it. The tool stops at the first command that fails and names its line
 * ({@code Command failed -:N}): the lines before it ran, so their undos are what a rollback needs. A batch holding a
 * word the tools' batch reader takes apart its own way (quotes, {@code #} starts a comment, {@code \} continues a
 * line) runs one command per line instead, with the same outcome.
 */
final class Batch {
    /** Words the batch reader of iproute2 (lib/utils.c makeargs/getcmdline) passes on unchanged. */
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9_.:,@+=/-]+");
    private static final Pattern FAILED = Pattern.compile("(?m)^Command failed -:(\\d+)\\s*$");

    private final String tool;
    private final List<Line> lines = new ArrayList<>();

    /**
     * One command without the program name, the full argv that undoes it ({@code null}: nothing to undo), and
     * whether that undo is safe also when the line may not have run (it removes an object by a name that is ours).
     */
    record Line(List<String> words, List<String> undo, boolean owned) {}

    Batch(String tool) {
        this.tool = tool;
    }

    String tool() {
        return tool;
    }

    /** Adds a command (without the tool's name) that needs no undo of its own (it dies with something undone). */
    Batch add(String... words) {
        lines.add(new Line(List.of(words), null, false));
        return this;
    }

    /** Adds a command whose effect {@code undo} (a full argv, program first) reverts; undone only if it ran. */
    Batch addUndoable(List<String> undo, String... words) {
        lines.add(new Line(List.of(words), List.copyOf(undo), false));
        return this;
    }

    /** As {@link #addUndoable}, for an object named for this container alone: undone also when unsure it ran. */
    Batch addOwned(List<String> undo, String... words) {
        lines.add(new Line(List.of(words), List.copyOf(undo), true));
        return this;
    }

    List<Line> lines() {
        return List.copyOf(lines);
    }

    int size() {
        return lines.size();
    }

    /** Whether every word passes the batch reader unchanged (otherwise: one command per line). */
    boolean batchable() {
        return lines.stream().allMatch(l -> l.words().stream().allMatch(w -> SAFE.matcher(w).matches()));
    }

    /** The script for {@code tool -batch -}: one command a line. */
    String script() {
        StringBuilder s = new StringBuilder();
        for (Line l : lines) s.append(String.join(" ", l.words())).append('\n');
        return s.toString();
    }

    /** The argv of line {@code index} (0-based) run on its own. */
    String[] argv(int index) {
        List<String> argv = new ArrayList<>();
        argv.add(tool);
        argv.addAll(lines.get(index).words());
        return argv.toArray(String[]::new);
    }

    /** The 0-based index of the line the tool reported as failed, from its stderr; empty if it named none. */
    static OptionalInt failedLine(String stderr) {
        Matcher m = FAILED.matcher(stderr);
        int line = -1;
        while (m.find()) line = Integer.parseInt(m.group(1)) - 1;
        return line < 0 ? OptionalInt.empty() : OptionalInt.of(line);
    }

    /** The tool's own error message, without the batch reader's {@code Command failed} trailer. */
    static String errorWithoutTrailer(String stderr) {
        return FAILED.matcher(stderr).replaceAll("").strip();
    }

    /**
     * The undos of the lines that ran when line {@code failed} failed, in the order they must run (last first).
     * A failure that names no line (the tool or the shell died) may have come at any line: only the undos of owned
     * objects are safe then (another line's undo could remove what someone else had made, e.g. an uplink qdisc that
     * was there before); the caller looks at what is there for the rest.
     */
    List<List<String>> undosAfterFailureAt(OptionalInt failed) {
        int ran = failed.isPresent() ? Math.min(failed.getAsInt(), lines.size()) : lines.size();
        List<List<String>> undos = new ArrayList<>();
        for (int i = ran - 1; i >= 0; i--) {
            Line l = lines.get(i);
            if (l.undo() != null && (failed.isPresent() || l.owned())) undos.add(l.undo());
        }
        return undos;
    }

    /** The undos of a batch that ran entirely, last first. */
    List<List<String>> undos() {
        return undosAfterFailureAt(OptionalInt.of(lines.size()));
    }

    /** A line of a batch failed: which one ({@code -1}: the tool named none), and what ran before it. */
    static final class Failed extends CommandFailedException {
        private final Batch batch;
        private final int line;
        private final java.nio.file.Path netns;
        private final int exitCode;
        private final List<List<String>> earlier;

        Failed(Batch batch, int line, java.nio.file.Path netns, int exitCode, String stderr) {
            this(batch, line, netns, exitCode, stderr, List.of());
        }

        private Failed(Batch batch, int line, java.nio.file.Path netns, int exitCode, String stderr,
                       List<List<String>> earlier) {
            super(line < 0 ? batch.tool() + " -batch (" + batch.size() + " commands)" : String.join(" ", batch.argv(line)),
                    netns, exitCode, stderr);
            this.batch = batch;
            this.line = line;
            this.netns = netns;
            this.exitCode = exitCode;
            this.earlier = List.copyOf(earlier);
        }

        /** The same failure, run after batches whose undos ({@code earlierUndos}, last first) are due too. */
        Failed after(List<List<String>> earlierUndos) {
            if (earlierUndos.isEmpty()) return this;
            return new Failed(batch, line, netns, exitCode, stderr(), earlierUndos);
        }

        /** The batch that failed. */
        Batch batch() {
            return batch;
        }

        /** 0-based index of the failed line, or -1 when unknown. */
        int line() {
            return line;
        }

        /** The undos of what ran before the failure, last first. */
        List<List<String>> undos() {
            List<List<String>> all = new ArrayList<>(batch.undosAfterFailureAt(line < 0 ? OptionalInt.empty() : OptionalInt.of(line)));
            all.addAll(earlier);
            return all;
        }
    }
}
