package io.urunc.network;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Names derived from the container id, so that cleanup after a lost record finds exactly this container's
 * objects: the tap is {@code urt} + 12 hex digits of SHA-256(id) (15 bytes, the kernel's IFNAMSIZ-1 limit).
 * A hash collision between two containers of the same namespace is caught at attach time through the
 * tap's alias, which carries the full container id (see {@link TapMark}).
 */
final class TapNames {
    static final String PREFIX = "urt";
    private static final int MAX_ID_LENGTH = 200;

    private TapNames() {}

    static String tapFor(String containerId) {
        return PREFIX + HexFormat.of().formatHex(digest(containerId), 0, 6);
    }

    /** A locally administered unicast MAC for a private-mode guest: 02:75 + 4 bytes of the id's hash. */
    static String privateMacFor(String containerId) {
        byte[] h = digest(containerId);
        return String.format("02:75:%02x:%02x:%02x:%02x", h[6], h[7], h[8], h[9]);
    }

    static void validateContainerId(String containerId) {
        if (containerId == null || containerId.isEmpty()) {
            throw new IllegalArgumentException("container id must not be empty");
        }
        if (containerId.length() > MAX_ID_LENGTH) {
            throw new IllegalArgumentException("container id longer than " + MAX_ID_LENGTH + " characters");
        }
        for (int i = 0; i < containerId.length(); i++) {
            char c = containerId.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new IllegalArgumentException("container id contains whitespace or a non-ASCII character: '"
                        + containerId + "'");
            }
        }
    }

    private static byte[] digest(String containerId) {
        validateContainerId(containerId);
        try {
            return MessageDigest.getInstance("SHA-256").digest(containerId.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
