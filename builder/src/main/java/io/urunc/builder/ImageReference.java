package io.urunc.builder;

import java.util.regex.Pattern;

/**
 * An image name with a tag, as given ({@code example.com/app:1}) and in containerd's fully qualified form
 * ({@code docker.io/library/app:latest} for {@code app}).
 */
public record ImageReference(String given, String fullName) {
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9.-]+(?::[0-9]+)?");

    public static ImageReference parse(String ref) throws BuildException {
        if (ref == null || ref.isBlank()) throw new BuildException("missing image name: use -t NAME[:TAG]");
        if (ref.contains("@")) throw new BuildException("image name '" + ref + "': digests cannot be given to a build, use NAME[:TAG]");
        int slash = ref.lastIndexOf('/');
        int colon = ref.lastIndexOf(':');
        String repo = ref;
        String tag = "latest";
        if (colon > slash) {
            repo = ref.substring(0, colon);
            tag = ref.substring(colon + 1);
        }
        if (!TAG.matcher(tag).matches()) throw new BuildException("image name '" + ref + "': invalid tag '" + tag + "'");
        String[] parts = repo.split("/", -1);
        String domain = null;
        int first = 0;
        if (parts.length > 1 && (parts[0].contains(".") || parts[0].contains(":") || parts[0].equals("localhost"))) {
            domain = parts[0];
            first = 1;
            if (!DOMAIN.matcher(domain).matches()) throw new BuildException("image name '" + ref + "': invalid registry '" + domain + "'");
        }
        for (int i = first; i < parts.length; i++) {
            if (!COMPONENT.matcher(parts[i]).matches()) {
                throw new BuildException("image name '" + ref + "': '" + parts[i] + "' is not a valid name component (lowercase letters, digits, . _ -)");
            }
        }
        String path = String.join("/", java.util.Arrays.copyOfRange(parts, first, parts.length));
        if (domain == null) {
            domain = "docker.io";
            if (parts.length == 1) path = "library/" + path;
        }
        return new ImageReference(repo + ":" + tag, domain + "/" + path + ":" + tag);
    }
}
