package io.urunc.builder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Turns a COPY instruction into image files, refusing anything outside the build context. */
final class CopyResolver {
    private final Path context;
    private final String fileName;

    CopyResolver(Path context, String fileName) throws BuildException {
        try {
            this.context = context.toRealPath();
        } catch (IOException e) {
            throw new BuildException("build context " + context + " does not exist or is unreadable");
        }
        if (!Files.isDirectory(this.context)) throw new BuildException("build context " + context + " is not a directory");
        this.fileName = fileName;
    }

    List<ImageFile> resolve(Instruction.Copy copy) throws BuildException {
        String dest = normalizeImagePath(copy.destination());
        boolean destIsDir = copy.destination().endsWith("/") || copy.destination().endsWith("/.");
        if (copy.sources().size() > 1 && !destIsDir) {
            throw error(copy, "with several sources the destination must be a directory ending in '/': " + copy.destination());
        }
        List<ImageFile> files = new ArrayList<>();
        for (String src : copy.sources()) {
            Path source = sourcePath(copy, src);
            if (Files.isDirectory(source)) {
                walkDirectory(copy, source, dest, files);
            } else if (Files.isRegularFile(source)) {
                String target = destIsDir ? join(dest, source.getFileName().toString()) : dest;
                files.add(regularFile(copy, source, target));
            } else {
                throw error(copy, src + " is neither a regular file nor a directory");
            }
        }
        return files;
    }

    private Path sourcePath(Instruction.Copy copy, String src) throws BuildException {
        if (src.contains("*") || src.contains("?") || src.contains("[")) {
            throw error(copy, "wildcards are not supported in COPY sources: " + src);
        }
        Path p = context.resolve(src.startsWith("/") ? src.substring(1) : src).normalize();
        if (!p.startsWith(context)) throw error(copy, src + " is outside the build context " + context);
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) throw error(copy, src + " not found in the build context " + context);
        Path real;
        try {
            real = p.toRealPath();
        } catch (IOException e) {
            throw error(copy, src + " cannot be resolved: " + e.getMessage());
        }
        if (!real.startsWith(context)) throw error(copy, src + " is a symbolic link pointing outside the build context");
        return real;
    }

    private void walkDirectory(Instruction.Copy copy, Path dir, String dest, List<ImageFile> files) throws BuildException {
        if (!dest.equals("/")) files.add(new ImageFile.Directory(dest, 0755));
        List<Path> entries;
        try (Stream<Path> s = Files.walk(dir)) {
            entries = s.filter(p -> !p.equals(dir)).sorted().toList();
        } catch (IOException e) {
            throw error(copy, "cannot read " + context.relativize(dir) + ": " + e.getMessage());
        }
        for (Path p : entries) {
            String target = join(dest, dir.relativize(p).toString());
            if (Files.isSymbolicLink(p)) {
                try {
                    files.add(new ImageFile.Symlink(target, Files.readSymbolicLink(p).toString()));
                } catch (IOException e) {
                    throw error(copy, "cannot read link " + p + ": " + e.getMessage());
                }
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                files.add(new ImageFile.Directory(target, 0755));
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                files.add(regularFile(copy, p, target));
            } else {
                throw error(copy, context.relativize(p) + " is a special file (device, socket or pipe) and cannot be copied");
            }
        }
    }

    private ImageFile regularFile(Instruction.Copy copy, Path source, String target) throws BuildException {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(source);
            int mode = perms.contains(PosixFilePermission.OWNER_EXECUTE) ? 0755 : 0644;
            return new ImageFile.ContextFile(target, mode, source, Files.size(source));
        } catch (IOException e) {
            throw error(copy, "cannot read " + source + ": " + e.getMessage());
        }
    }

    /** An absolute, normalized path inside the image; relative destinations are relative to '/'. */
    static String normalizeImagePath(String p) {
        Deque parts = new Deque();
        for (String part : p.split("/")) {
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) parts.pop();
            else parts.push(part);
        }
        return "/" + String.join("/", parts.items);
    }

    private static String join(String dir, String rel) {
        return normalizeImagePath(dir + "/" + rel);
    }

    private ContainerfileException error(Instruction.Copy copy, String problem) {
        return new ContainerfileException(fileName, copy.line(), "COPY: " + problem);
    }

    private static final class Deque {
        final List<String> items = new ArrayList<>();

        void push(String s) { items.add(s); }

        void pop() { if (!items.isEmpty()) items.removeLast(); }
    }
}
