package io.urunc.builder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TarWriterTest {
    @TempDir
    Path tmp;

    @Test
    void gnuTarReadsWhatWeWriteIncludingLongNamesAndLinks() throws Exception {
        String longDir = "d/" + "x".repeat(120) + "/";
        String veryLong = "p/" + "y".repeat(200) + "/" + "z".repeat(200) + ".txt"; // > 256 bytes: PAX only
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarWriter tar = new TarWriter(bytes, 1_700_000_000L)) {
            tar.directory("d/", 0755);
            tar.file("d/hello.txt", 0644, "hello\n".getBytes(StandardCharsets.UTF_8));
            tar.directory(longDir, 0755);
            tar.file(longDir + "split.txt", 0755, "prefix+name\n".getBytes(StandardCharsets.UTF_8));
            tar.file(veryLong, 0600, "pax\n".getBytes(StandardCharsets.UTF_8));
            tar.symlink("d/link", "../" + "t".repeat(150));
        }
        assertEquals(0, bytes.size() % 512);
        Path archive = tmp.resolve("t.tar");
        Files.write(archive, bytes.toByteArray());
        Path into = Files.createDirectory(tmp.resolve("x"));
        run(into, "tar", "-xf", archive.toString());
        assertEquals("hello\n", Files.readString(into.resolve("d/hello.txt")));
        assertEquals("prefix+name\n", Files.readString(into.resolve(longDir + "split.txt")));
        assertEquals("pax\n", Files.readString(into.resolve(veryLong)));
        assertEquals("../" + "t".repeat(150), Files.readSymbolicLink(into.resolve("d/link")).toString());
        String listing = run(tmp, "tar", "--numeric-owner", "--full-time", "-tvf", archive.toString());
        assertTrue(listing.contains("-rwxr-xr-x 0/0"), listing);
        assertTrue(listing.contains("-rw------- 0/0"), listing);
        assertTrue(listing.contains("2023-11-14 22:13:20"), listing);
    }

    @Test
    void paxRecordLengthCountsItsOwnDigits() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("path", "a".repeat(90)); // " path=" + 90 + "\n" = 97 bytes + "99" -> 99, "100" would be needed at 98+
        String rec = new String(TarWriter.paxRecords(m), StandardCharsets.UTF_8);
        assertEquals(Integer.parseInt(rec.substring(0, rec.indexOf(' '))), rec.getBytes(StandardCharsets.UTF_8).length);
        m.put("path", "a".repeat(92)); // crosses from two to three digits
        rec = new String(TarWriter.paxRecords(m), StandardCharsets.UTF_8);
        assertEquals(Integer.parseInt(rec.substring(0, rec.indexOf(' '))), rec.getBytes(StandardCharsets.UTF_8).length);
    }

    static String run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
