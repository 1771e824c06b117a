package io.urunc.builder;

import java.nio.file.Path;

/** One entry of a layer: {@code path} is absolute inside the image ("/unikernel/app"). */
public sealed interface ImageFile {
    String path();

    /** The tar entry name: no leading '/'. */
    default String tarName() {
        return path().substring(1);
    }

    record Directory(String path, int mode) implements ImageFile {}

    /** A file copied from the build context; {@code size} is what it had when the build looked at it. */
    record ContextFile(String path, int mode, Path source, long size) implements ImageFile {}

    record Bytes(String path, int mode, byte[] content) implements ImageFile {}

    record Symlink(String path, String target) implements ImageFile {}
}
