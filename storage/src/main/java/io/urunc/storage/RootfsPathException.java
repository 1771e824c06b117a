package io.urunc.storage;

import java.io.IOException;

/**
 * A path taken from an untrusted image cannot be used inside the container rootfs: it is missing, of the
 * wrong kind, malformed, or loops. The message starts with the path as the image gave it, so callers can
 * prefix the annotation key ("com.urunc.unikernel.binary: /x: no such file in the container rootfs").
 */
public class RootfsPathException extends IOException {
    private final String pathFromImage;

    public RootfsPathException(String pathFromImage, String problem) {
        super(printable(pathFromImage) + ": " + problem);
        this.pathFromImage = pathFromImage;
    }

    /** The offending path exactly as the image gave it. */
    public String pathFromImage() {
        return pathFromImage;
    }

    private static String printable(String s) {
        return s.replace("\0", "\\0");
    }
}
