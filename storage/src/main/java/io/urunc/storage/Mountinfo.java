package io.urunc.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Mount points of the calling thread's mount namespace, from {@code /proc/thread-self/mountinfo}. */
final class Mountinfo {
    private static final Path MOUNTINFO = Path.of("/proc/thread-self/mountinfo");

    private Mountinfo() {}

    static List<String> mountPoints() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(MOUNTINFO)) {
            String[] f = line.split(" ");
            if (f.length > 4) out.add(unescape(f[4]));
        }
        return out;
    }

    static boolean isMountPoint(Path canonical) throws IOException {
        return mountPoints().contains(canonical.toString());
    }

    /** The kernel writes space, tab, newline and backslash as three-digit octal escapes. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) return false;
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') return false;
        }
        return true;
    }
}
