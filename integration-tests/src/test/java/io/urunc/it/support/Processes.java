package io.urunc.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Looks at the processes of this machine by command line. */
public final class Processes {
    private Processes() {}

    public static List<ProcessHandle> matching(String needle) {
        return ProcessHandle.allProcesses().filter(p -> cmdline(p.pid()).contains(needle)).toList();
    }

    /** QEMU processes themselves (argv[0]), not the helpers that start them, whose command line mentions {@code needle}. */
    public static List<ProcessHandle> qemus(String needle) {
        return matching(needle).stream().filter(p -> {
            String c = cmdline(p.pid());
            String argv0 = c.contains(" ") ? c.substring(0, c.indexOf(' ')) : c;
            return argv0.contains("qemu-system");
        }).toList();
    }

    public static String cmdline(long pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    public static void killMatching(String needle) {
        long self = ProcessHandle.current().pid();
        for (ProcessHandle p : matching(needle)) {
            if (p.pid() != self) p.destroyForcibly();
        }
    }
}
