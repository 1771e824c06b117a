package io.urunc.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Resolves paths that come from an untrusted image (annotation values, urunc.json) inside a container
 * rootfs, as if the rootfs were {@code /}.
 *
 * <p>Rules:
 * <ul>
 *   <li>The path is taken relative to the rootfs root whether or not it starts with {@code /}.</li>
 *   <li>It is walked component by component; every symlink met is read and followed inside the rootfs:
 *       an absolute target restarts at the rootfs root, a relative one continues from the link's
 *       directory. At most {@value #MAX_SYMLINK_HOPS} symlinks are followed (like Linux's ELOOP limit).</li>
 *   <li>A {@code ..} that would climb above the rootfs root, in the given path or in any symlink target,
 *       is rejected with {@link PathEscapeException}. (A kernel would clamp it at {@code /}; an image that
 *       relies on that is either broken or hostile, and we would rather say so than guess.)</li>
 *   <li>Components that do not exist are kept as they are: {@link #resolve} answers where the path would
 *       be; {@link #resolveRegularFile} also requires an existing regular file.</li>
 * </ul>
 * The result is only as stable as the rootfs: resolve after the rootfs is mounted and before anything
 * from the image runs.
 */
public final class RootfsPaths {
    public static final int MAX_SYMLINK_HOPS = 40;

    private RootfsPaths() {}

    /** Where {@code pathFromImage} lands inside {@code rootfs}, all symlinks followed and confined. */
    public static Path resolve(Path rootfs, String pathFromImage) throws RootfsPathException {
        if (pathFromImage == null || pathFromImage.isEmpty()) {
            throw new RootfsPathException(String.valueOf(pathFromImage), "empty path");
        }
        if (pathFromImage.indexOf('\0') >= 0) {
            throw new RootfsPathException(pathFromImage, "path contains a NUL byte");
        }
        Deque<String> pending = new ArrayDeque<>(components(pathFromImage));
        List<String> resolved = new ArrayList<>();
        int hops = 0;
        while (!pending.isEmpty()) {
            String name = pending.removeFirst();
            if (name.equals("..")) {
                if (resolved.isEmpty()) {
                    throw new PathEscapeException(pathFromImage, "climbs above the container rootfs root");
                }
                resolved.removeLast();
                continue;
            }
            Path candidate = join(rootfs, resolved).resolve(name);
            if (!Files.isSymbolicLink(candidate)) {
                resolved.add(name);
                continue;
            }
            if (++hops > MAX_SYMLINK_HOPS) {
                throw new RootfsPathException(pathFromImage,
                        "too many levels of symbolic links (more than " + MAX_SYMLINK_HOPS + ") in the container rootfs");
            }
            String target = readLink(candidate, pathFromImage);
            if (target.startsWith("/")) resolved.clear();
            List<String> targetParts = components(target);
            for (int i = targetParts.size() - 1; i >= 0; i--) pending.addFirst(targetParts.get(i));
        }
        return join(rootfs, resolved);
    }

    /** Like {@link #resolve}, and the result must be an existing regular file (after following symlinks). */
    public static Path resolveRegularFile(Path rootfs, String pathFromImage) throws RootfsPathException {
        Path p = resolve(rootfs, pathFromImage);
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return p;
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            throw new RootfsPathException(pathFromImage, "no such file in the container rootfs");
        }
        String kind = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "a directory" : "a special file";
        throw new RootfsPathException(pathFromImage, "is " + kind + " in the container rootfs, not a regular file");
    }

    private static String readLink(Path link, String pathFromImage) throws RootfsPathException {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException e) {
            throw new RootfsPathException(pathFromImage, "cannot read symbolic link " + link + ": " + e.getMessage());
        }
    }

    private static List<String> components(String path) {
        List<String> out = new ArrayList<>();
        for (String part : path.split("/")) {
            if (!part.isEmpty() && !part.equals(".")) out.add(part);
        }
        return out;
    }

    private static Path join(Path root, List<String> names) {
        Path p = root;
        for (String n : names) p = p.resolve(n);
        return p;
    }
}
