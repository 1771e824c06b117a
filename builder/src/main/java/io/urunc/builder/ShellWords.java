package io.urunc.builder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Splits an instruction's arguments into words the way Containerfiles do: whitespace separates words,
 * "double quotes" group and allow \" \\ \$ escapes and variable expansion, 'single quotes' are literal,
 * a backslash outside quotes escapes the next character, {@code $VAR}, {@code ${VAR}} and
 * {@code ${VAR:-default}} expand build arguments (unset ones expand to nothing).
 */
final class ShellWords {
    /** A word; {@code equalsAt} is the index in {@code text} of the first '=' written outside quotes, or -1. */
    record Word(String text, int equalsAt) {}

    private final String s;
    private final Map<String, String> vars;
    private int pos;

    private ShellWords(String s, Map<String, String> vars) {
        this.s = s;
        this.vars = vars;
    }

    static List<Word> split(String s, Map<String, String> vars) {
        return new ShellWords(s, vars).words();
    }

    private List<Word> words() {
        List<Word> out = new ArrayList<>();
        while (true) {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
            if (pos >= s.length()) return out;
            out.add(word());
        }
    }

    private Word word() {
        StringBuilder b = new StringBuilder();
        int equalsAt = -1;
        while (pos < s.length() && !Character.isWhitespace(s.charAt(pos))) {
            char c = s.charAt(pos);
            switch (c) {
                case '\'' -> {
                    int end = s.indexOf('\'', pos + 1);
                    if (end < 0) throw new IllegalArgumentException("unterminated single quote");
                    b.append(s, pos + 1, end);
                    pos = end + 1;
                }
                case '"' -> doubleQuoted(b);
                case '\\' -> {
                    if (pos + 1 < s.length()) b.append(s.charAt(pos + 1));
                    pos += 2;
                }
                case '$' -> expand(b);
                default -> {
                    if (c == '=' && equalsAt < 0) equalsAt = b.length();
                    b.append(c);
                    pos++;
                }
            }
        }
        return new Word(b.toString(), equalsAt);
    }

    private void doubleQuoted(StringBuilder b) {
        pos++;
        while (true) {
            if (pos >= s.length()) throw new IllegalArgumentException("unterminated double quote");
            char c = s.charAt(pos);
            if (c == '"') {
                pos++;
                return;
            }
            if (c == '\\' && pos + 1 < s.length() && "\"\\$".indexOf(s.charAt(pos + 1)) >= 0) {
                b.append(s.charAt(pos + 1));
                pos += 2;
            } else if (c == '$') {
                expand(b);
            } else {
                b.append(c);
                pos++;
            }
        }
    }

    private void expand(StringBuilder b) {
        int start = pos + 1;
        if (start < s.length() && s.charAt(start) == '{') {
            int end = s.indexOf('}', start);
            if (end < 0) throw new IllegalArgumentException("missing '}' in ${...}");
            String inner = s.substring(start + 1, end);
            int dflt = inner.indexOf(":-");
            String name = dflt >= 0 ? inner.substring(0, dflt) : inner;
            if (!isName(name)) throw new IllegalArgumentException("bad variable reference ${" + inner + "}");
            String value = vars.get(name);
            if ((value == null || value.isEmpty()) && dflt >= 0) value = inner.substring(dflt + 2);
            b.append(value == null ? "" : value);
            pos = end + 1;
            return;
        }
        int end = start;
        while (end < s.length() && (Character.isLetterOrDigit(s.charAt(end)) || s.charAt(end) == '_')) end++;
        if (end == start) { // a lone '$' stays literal
            b.append('$');
            pos = start;
            return;
        }
        b.append(vars.getOrDefault(s.substring(start, end), ""));
        pos = end;
    }

    static boolean isName(String name) {
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) return false;
        return name.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_');
    }
}
