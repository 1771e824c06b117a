package io.urunc.shim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class IdleReleaseTest {
    @Test
    void onlyMappingsOfFilesThatStillExistAreReleased() {
        List<IdleRelease.Mapping> m = IdleRelease.fileMappings(List.of(
                "800001000-800f06000 rw-p 00001000 fe:00 1234                       /opt/urunc/urunc.aot",
                "7f672a6e3000-7f672b76f000 r-xp 002e3000 fe:00 5678  /usr/lib/jvm/lib/server/libjvm.so",
                "fc000000-fc2a0000 rw-p 00000000 00:00 0 ",
                "55d0c0a1b000-55d0c0a3c000 rw-p 00000000 00:00 0                          [heap]",
                "7ffc5a0f0000-7ffc5a111000 rw-p 00000000 00:00 0                          [stack]",
                "7f1000000000-7f1000001000 rw-s 00000000 00:01 99                         /memfd:x (deleted)",
                "7f1000002000-7f1000003000 r--p 00000000 fe:00 77                         /tmp/gone (deleted)",
                "not a maps line"));
        assertEquals(List.of(new IdleRelease.Mapping(0x800001000L, 0x800f06000L, "/opt/urunc/urunc.aot"),
                new IdleRelease.Mapping(0x7f672a6e3000L, 0x7f672b76f000L, "/usr/lib/jvm/lib/server/libjvm.so")), m);
    }

    /** What the daemon gains: the pages of a file only it maps leave its RSS, and read back as they were. */
    @Test
    void theResidentPagesOfAMappedFileAreGivenBackAndReadAgainUnchanged(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("data");
        byte[] content = new byte[4 << 20];
        for (int i = 0; i < content.length; i++) content[i] = (byte) (i * 31);
        try (FileChannel w = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            w.write(java.nio.ByteBuffer.wrap(content));
            w.force(true); // clean pages: reclaim does not write dirty ones back
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, content.length);
            long sum = 0;
            for (int i = 0; i < content.length; i += 4096) sum += map.get(i);
            long before = residentKib(file);
            assertTrue(before >= 4096 - 64, "4 MiB resident before: " + before + " KiB (read " + sum + ")");

            IdleRelease.run();

            long after = residentKib(file);
            assertTrue(after < before / 4, "resident after the release: " + after + " KiB of " + before);
            for (int i = 0; i < content.length; i += 997) assertEquals(content[i], map.get(i), "byte " + i);
        }
    }

    /** Rss of this JVM's mappings of the file, from /proc/self/smaps. */
    private static long residentKib(Path file) throws Exception {
        long kib = 0;
        boolean ours = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) ours = line.endsWith(" " + file);
            else if (ours && line.startsWith("Rss:")) kib += Long.parseLong(line.substring(4).replace("kB", "").trim());
        }
        return kib;
    }
}
