package io.urunc.vmm.types;

import io.urunc.vmm.InvalidGuestSpecException;

import java.util.regex.Pattern;

/**
 * Quoting for a Linux-style kernel command line. The kernel splits on whitespace outside double quotes and strips
 * one pair of quotes (around the whole word or around the value after '='); there is no escape character, so
 * a double quote or a control character inside a word cannot be carried.
 */
public final class KernelArgs {
    /** x86 COMMAND_LINE_SIZE is 2048 bytes including the terminating NUL. */
    public static final int MAX_CMDLINE_BYTES = 2047;
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private KernelArgs() {}

    /** {@code word} as one kernel command-line word: quoted if it is empty or the kernel would split it. */
    public static String quote(String word, String what) {
        for (int i = 0; i < word.length(); i++) {
            char c = word.charAt(i);
            if (c == '"') throw new InvalidGuestSpecException(what + " contains a double quote, which the kernel command line cannot carry: " + word);
            if (Character.isISOControl(c)) throw new InvalidGuestSpecException(what + " contains a control character (e.g. newline or tab), which the kernel command line cannot carry: " + printable(word));
        }
        if (word.isEmpty() || splitsThere(word)) return '"' + word + '"';
        return word;
    }

    /**
     * Whether the kernel would split the word: at a space, or at byte 0xA0, which the kernel's Latin-1 {@code isspace}
     * also counts as a space. UTF-8 has that byte inside many characters (U+00A0, Cyrillic Р, ...), not only NBSP.
     */
    private static boolean splitsThere(String word) {
        for (byte b : word.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            if (b == ' ' || b == (byte) 0xA0) return true;
        }
        return false;
    }

    /** {@code NAME=value} with the value quoted when needed; NAME must be a shell-style identifier. */
    public static String envAssignment(String name, String value) {
        if (!ENV_NAME.matcher(name).matches())
            throw new InvalidGuestSpecException("environment variable name '" + printable(name) + "' cannot be passed on the kernel command line (need [A-Za-z_][A-Za-z0-9_]*)");
        String v = quote(value, "value of environment variable " + name);
        return name + "=" + v;
    }

    /** Fails if {@code cmdline} exceeds the kernel's limit. */
    public static String checkLength(String cmdline) {
        int n = cmdline.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (n > MAX_CMDLINE_BYTES)
            throw new InvalidGuestSpecException("kernel command line is " + n + " bytes; the limit is " + MAX_CMDLINE_BYTES + " (fewer or shorter arguments/environment variables)");
        return cmdline;
    }

    private static String printable(String s) {
        return s.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r");
    }
}
