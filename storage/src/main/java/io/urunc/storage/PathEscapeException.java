package io.urunc.storage;

/** A path from an image tried to climb above the container rootfs root with {@code ..}. */
public final class PathEscapeException extends RootfsPathException {
    public PathEscapeException(String pathFromImage, String problem) {
        super(pathFromImage, problem);
    }
}
