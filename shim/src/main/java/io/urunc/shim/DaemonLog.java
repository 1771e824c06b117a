package io.urunc.shim;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ResourceBundle;

/**
 * The backend of {@link System.Logger}, the JDK's logging API every module logs through: lines appended to the
 * daemon's log file, one write each. Nothing is written until {@link #toFile} runs, so {@code start} and
 * {@code delete}, whose stdout and stderr containerd reads, stay silent. It replaced log4j2, whose initialisation
 * was a third of the daemon's start-up (README, "Start-up and memory").
 *
 * <p>Messages with parameters follow {@code java.text.MessageFormat}'s placeholders ({@code {0}}, {@code ''} for a
 * quote) but each parameter is written as {@code String.valueOf} (a pid stays {@code 12345}, not {@code 12,345}).
 */
public final class DaemonLog extends System.LoggerFinder {
    private static volatile OutputStream out;
    private static volatile int threshold = System.Logger.Level.INFO.getSeverity();

    public DaemonLog() {}

    @Override
    public System.Logger getLogger(String name, Module module) {
        return new Line(name.substring(name.lastIndexOf('.') + 1));
    }

    /** From now on lines at {@code level} (debug, info, warn, error) and above are appended to {@code file}. */
    static void toFile(Path file, String level) throws IOException {
        threshold = severity(level);
        java.nio.file.Files.createDirectories(file.getParent());
        out = new FileOutputStream(file.toFile(), true);
    }

    /** Back to silence (tests). */
    static void off() throws IOException {
        OutputStream o = out;
        out = null;
        if (o != null) o.close();
    }

    static int severity(String level) {
        return switch (level.toLowerCase(java.util.Locale.ROOT)) {
            case "trace" -> System.Logger.Level.TRACE.getSeverity();
            case "debug" -> System.Logger.Level.DEBUG.getSeverity();
            case "warn", "warning" -> System.Logger.Level.WARNING.getSeverity();
            case "error" -> System.Logger.Level.ERROR.getSeverity();
            default -> System.Logger.Level.INFO.getSeverity();
        };
    }

    /** {@code {n}} replaced by the n-th parameter, {@code ''} by a quote; anything else is kept as written. */
    static String format(String pattern, Object... params) {
        if (params == null || params.length == 0) return pattern;
        StringBuilder b = new StringBuilder(pattern.length() + 32);
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\'' && i + 1 < pattern.length() && pattern.charAt(i + 1) == '\'') {
                b.append('\'');
                i++;
                continue;
            }
            int close = c == '{' ? pattern.indexOf('}', i) : -1;
            if (close > i + 1) {
                try {
                    int n = Integer.parseInt(pattern, i + 1, close, 10);
                    if (n >= 0 && n < params.length) {
                        b.append(params[n]);
                        i = close;
                        continue;
                    }
                } catch (NumberFormatException ignored) {
                    // not a placeholder: kept as written
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    private record Line(String name) implements System.Logger {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean isLoggable(Level level) {
            return out != null && level != Level.OFF && level.getSeverity() >= threshold;
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
            if (!isLoggable(level)) return;
            if (thrown == null) {
                write(level, msg);
                return;
            }
            StringWriter trace = new StringWriter();
            thrown.printStackTrace(new PrintWriter(trace));
            write(level, msg + System.lineSeparator() + trace.toString().stripTrailing());
        }

        @Override
        public void log(Level level, ResourceBundle bundle, String format, Object... params) {
            if (isLoggable(level)) write(level, format(format, params));
        }

        private void write(Level level, String msg) {
            LocalDateTime t = LocalDateTime.now();
            StringBuilder b = new StringBuilder(64 + msg.length());
            b.append(t.getYear()).append('-');
            two(b, t.getMonthValue()).append('-');
            two(b, t.getDayOfMonth()).append('T');
            two(b, t.getHour()).append(':');
            two(b, t.getMinute()).append(':');
            two(b, t.getSecond()).append(',');
            int ms = t.getNano() / 1_000_000;
            b.append(ms < 100 ? (ms < 10 ? "00" : "0") : "").append(ms).append(' ');
            String label = level == Level.WARNING ? "WARN" : level.getName();
            b.append(label).append(" ".repeat(Math.max(1, 6 - label.length())));
            b.append('[').append(Thread.currentThread().getName()).append("] ").append(name).append(' ').append(msg).append('\n');
            String line = b.toString();
            OutputStream o = out;
            if (o == null) return;
            try {
                // one write per line: lines of concurrent threads never interleave in an O_APPEND file
                o.write(line.getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // a full or vanished log must not fail the call that logged
            }
        }

        private static StringBuilder two(StringBuilder b, int n) {
            return (n < 10 ? b.append('0') : b).append(n);
        }
    }
}
