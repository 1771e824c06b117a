package io.urunc.shim;

import io.urunc.sys.Libc;
import io.urunc.sys.SysException;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a daemon with no request to serve gives back to the kernel: the pages of the files it maps (libjvm.so, the
 * AOT cache, the JDK's modules image, the other libraries), half of an idle daemon's RSS, read at start and by each
 * request and not again until the next one, which faults back what it uses. MADV_PAGEOUT never changes what the
 * memory holds: pages written to (the AOT cache's, when the JVM relocates it) stay unless there is swap, and so do
 * pages another process maps (libjvm.so of other JVMs of the same JDK). malloc's free memory goes back through the
 * JVM's own periodic trim (the launcher's -XX:TrimNativeHeapInterval).
 */
final class IdleRelease {
    private static final Logger LOG = System.getLogger(IdleRelease.class.getName());

    /** A file mapping of /proc/self/maps: [start, end). */
    record Mapping(long start, long end, String path) {}

    private IdleRelease() {}

    /** Releases what it can (a few tens of ms of CPU); logs the RSS before and after at debug level. */
    static void run() {
        long t0 = System.nanoTime();
        boolean debug = LOG.isLoggable(Level.DEBUG);
        long before = debug ? rssKib() : -1;
        long advised = 0;
        try {
            List<Mapping> mappings = fileMappings(Files.readAllLines(Path.of("/proc/self/maps")));
            // a collection reads the class metadata of every live object: collect first, or the next collection
            // (which this run's own garbage brings sooner) faults much of the released cache back in
            System.gc();
            for (Mapping m : mappings) {
                try {
                    Libc.madvise(m.start(), m.end() - m.start(), Libc.MADV_PAGEOUT);
                    advised += m.end() - m.start();
                } catch (SysException e) {
                    // EINVAL for locked or special mappings; a kernel before 5.4 has no MADV_PAGEOUT at all
                    LOG.log(Level.DEBUG, "idle release: {0}: {1}", m.path(), e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "idle release: /proc/self/maps: {0}", e.getMessage());
        }
        if (debug) {
            LOG.log(Level.DEBUG, "idle release: RSS {0} -> {1} KiB ({2} MiB of file mappings advised) in {3} ms", before,
                    rssKib(), advised >> 20, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    /** The mappings of regular files among /proc/PID/maps lines (not anonymous, [heap], [stack], deleted or memfd). */
    static List<Mapping> fileMappings(List<String> mapsLines) {
        List<Mapping> out = new ArrayList<>();
        for (String line : mapsLines) {
            // start-end perms offset dev inode path
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 6 || !f[5].startsWith("/") || f[5].endsWith(" (deleted)") || f[4].equals("0")) continue;
            int dash = f[0].indexOf('-');
            if (dash < 0) continue;
            try {
                out.add(new Mapping(Long.parseUnsignedLong(f[0], 0, dash, 16),
                        Long.parseUnsignedLong(f[0], dash + 1, f[0].length(), 16), f[5]));
            } catch (NumberFormatException e) {
                // not a maps line
            }
        }
        return out;
    }

    private static long rssKib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.substring(6).replace("kB", "").trim());
            }
        } catch (IOException | RuntimeException e) {
            // only for the log line
        }
        return -1;
    }
}
