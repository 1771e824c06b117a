package io.urunc.shim.runc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The fields of {@code /proc/<pid>/stat} the shim needs. A zombie keeps its parent and session.
 *
 * @param startTime field 22: when the process started, in clock ticks after boot; with the pid and the boot it
 *                  names one process for ever (a reused pid gets a later start time)
 */
public record ProcStat(int pid, char state, int ppid, int session, long startTime) {

    public boolean zombie() {
        return state == 'Z';
    }

    public static Optional<ProcStat> read(long pid) {
        try {
            return parse(Files.readString(Path.of("/proc/" + pid + "/stat")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The command name may hold spaces and parentheses: the fields start after the last ')'. */
    static Optional<ProcStat> parse(String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open <= 0 || close < open) return Optional.empty();
        // f[0] is field 3 (state)
        String[] f = line.substring(close + 1).strip().split("\\s+");
        if (f.length < 20 || f[0].length() != 1) return Optional.empty();
        try {
            return Optional.of(new ProcStat(Integer.parseInt(line.substring(0, open).strip()), f[0].charAt(0),
                    Integer.parseInt(f[1]), Integer.parseInt(f[3]), Long.parseLong(f[19])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
