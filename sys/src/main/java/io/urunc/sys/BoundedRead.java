package io.urunc.sys;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads of files an image or a container spec controls. Such a file can be as large as the image wants (a sparse
 * terabyte costs it nothing), so it is never read whole: past the limit the read stops and fails, naming the file.
 */
public final class BoundedRead {
    private BoundedRead() {}

    /** The file's bytes; an {@link IOException} if it holds more than {@code maxBytes} (at most maxBytes+1 are read). */
    public static byte[] readAll(Path file, int maxBytes) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] data = in.readNBytes(maxBytes + 1);
            if (data.length > maxBytes) {
                throw new IOException(file + " is larger than the " + maxBytes + " bytes allowed");
            }
            return data;
        }
    }
}
