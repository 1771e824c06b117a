package io.urunc.shim.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** runc's {@code --log-format json} file: one JSON object per line ({@code level}, {@code msg}, {@code time}). */
public final class RuncLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Only the end of the log matters: the last error is what the failed command said. */
    private static final int TAIL_BYTES = 64 * 1024;

    private RuncLog() {}

    /** The message of the last {@code error}-level (or worse) entry, if any. */
    public static Optional<String> lastError(List<String> lines) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) continue;
            JsonNode entry;
            try {
                entry = JSON.readTree(line);
            } catch (IOException e) {
                continue;
            }
            if (entry == null || !entry.isObject()) continue;
            String level = entry.path("level").asText("");
            if (level.equals("error") || level.equals("fatal") || level.equals("panic")) {
                String msg = entry.path("msg").asText("").strip();
                if (!msg.isEmpty()) return Optional.of(msg);
            }
        }
        return Optional.empty();
    }

    public static Optional<String> lastError(Path logFile) {
        return lastError(logFile, 0);
    }

    /** The last error logged at or after byte {@code offset} (what one command wrote). */
    public static Optional<String> lastError(Path logFile, long offset) {
        try (RandomAccessFile f = new RandomAccessFile(logFile.toFile(), "r")) {
            long start = Math.max(Math.min(offset, f.length()), f.length() - TAIL_BYTES);
            byte[] buf = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(buf);
            return lastError(new String(buf, StandardCharsets.UTF_8).lines().toList());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
