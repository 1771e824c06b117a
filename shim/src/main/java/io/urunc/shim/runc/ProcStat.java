package io.urunc.shim.runc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The fields of {@code /proc/<pid>/stat} the reaper needs. A zombie keeps its parent and session. */
record ProcStat(int pid, char state, int ppid, int session) {

    boolean zombie() {
        return state == 'Z';
    }

    static Optional<ProcStat> read(long pid) {
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
        String[] f = line.substring(close + 1).strip().split("\\s+");
        if (f.length < 4 || f[0].length() != 1) return Optional.empty();
        try {
            return Optional.of(new ProcStat(Integer.parseInt(line.substring(0, open).strip()), f[0].charAt(0),
                    Integer.parseInt(f[1]), Integer.parseInt(f[3])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
