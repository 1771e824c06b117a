package io.urunc.builder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parses the Containerfile subset urunc-build supports: {@code FROM scratch}, {@code COPY}, {@code LABEL}, {@code ARG},
 * comments, blank lines and {@code \} line continuations. Errors name the file and line.
 */
public final class ContainerfileParser {
    private static final Set<String> UNSUPPORTED = Set.of("RUN", "CMD", "ENTRYPOINT", "ENV", "ADD", "WORKDIR", "USER",
            "EXPOSE", "VOLUME", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER");

    private final String fileName;
    private final Map<String, String> buildArgs;
    private final Map<String, String> vars = new HashMap<>();
    private final List<Instruction> out = new ArrayList<>();
    private boolean seenFrom;

    private ContainerfileParser(String fileName, Map<String, String> buildArgs) {
        this.fileName = fileName;
        this.buildArgs = buildArgs;
    }

    public static Containerfile parse(Path file, Map<String, String> buildArgs) throws BuildException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BuildException("cannot read Containerfile " + file + ": " + e.getMessage(), e);
        }
        return parse(file.toString(), text, buildArgs);
    }

    public static Containerfile parse(String fileName, String text, Map<String, String> buildArgs) throws ContainerfileException {
        return new ContainerfileParser(fileName, buildArgs).run(text);
    }

    private Containerfile run(String text) throws ContainerfileException {
        String[] lines = text.split("\r?\n", -1);
        StringBuilder logical = new StringBuilder();
        int start = 0;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            String trimmed = line.strip();
            if (logical.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#"))) continue;
            if (!logical.isEmpty() && trimmed.startsWith("#")) continue; // comments inside a continuation are dropped
            if (logical.isEmpty()) start = i + 1;
            String body = line.stripTrailing();
            if (body.endsWith("\\")) {
                logical.append(body, 0, body.length() - 1).append(' ');
                continue;
            }
            logical.append(body);
            instruction(logical.toString().strip(), start);
            logical.setLength(0);
        }
        if (!logical.isEmpty()) instruction(logical.toString().strip(), start);
        if (!seenFrom) throw error(Math.max(start, 1), "no FROM instruction: start the file with FROM scratch");
        return new Containerfile(fileName, out);
    }

    private void instruction(String text, int line) throws ContainerfileException {
        if (text.isEmpty()) return;
        int sp = 0;
        while (sp < text.length() && !Character.isWhitespace(text.charAt(sp))) sp++;
        String keyword = text.substring(0, sp).toUpperCase(Locale.ROOT);
        String args = text.substring(sp).strip();
        if (!seenFrom && !keyword.equals("FROM") && !keyword.equals("ARG")) {
            throw error(line, keyword + " before FROM: only ARG may come before FROM scratch");
        }
        switch (keyword) {
            case "FROM" -> from(args, line);
            case "COPY" -> copy(args, line);
            case "LABEL" -> label(args, line);
            case "ARG" -> arg(args, line);
            default -> {
                if (UNSUPPORTED.contains(keyword)) {
                    throw error(line, keyword + " is not supported: a unikernel image is assembled without running anything;"
                            + " urunc-build understands FROM scratch, COPY, LABEL and ARG");
                }
                throw error(line, "unknown instruction '" + text.substring(0, sp) + "'");
            }
        }
    }

    private void from(String args, int line) throws ContainerfileException {
        List<ShellWords.Word> words = words(args, line);
        if (seenFrom) throw error(line, "a second FROM: multi-stage builds are not supported");
        if (words.isEmpty()) throw error(line, "FROM needs an image: use FROM scratch");
        String image = words.getFirst().text();
        if (!image.equals("scratch") || words.size() > 1) {
            throw error(line, "FROM " + args + ": only FROM scratch is supported (the image holds just the unikernel files)");
        }
        seenFrom = true;
        out.add(new Instruction.From(image, line));
    }

    private void copy(String args, int line) throws ContainerfileException {
        List<String> parts;
        if (args.startsWith("[")) {
            try {
                parts = List.of(new ObjectMapper().readValue(args, String[].class));
            } catch (JsonProcessingException e) {
                throw error(line, "COPY [...] is not a JSON array of strings: " + e.getOriginalMessage());
            }
        } else {
            parts = words(args, line).stream().map(ShellWords.Word::text).toList();
        }
        for (String p : parts) {
            if (p.startsWith("--")) throw error(line, "COPY option " + p + " is not supported");
        }
        if (parts.size() < 2) throw error(line, "COPY needs at least one source and a destination");
        for (String p : parts) {
            if (p.isEmpty()) throw error(line, "COPY with an empty path");
        }
        out.add(new Instruction.Copy(parts.subList(0, parts.size() - 1), parts.getLast(), line));
    }

    private void label(String args, int line) throws ContainerfileException {
        List<ShellWords.Word> words = words(args, line);
        if (words.isEmpty()) throw error(line, "LABEL needs at least one key=value");
        Map<String, String> labels = new LinkedHashMap<>();
        if (words.getFirst().equalsAt() < 0) { // legacy form: LABEL key value words...
            if (words.size() < 2) throw error(line, "LABEL " + args + ": expected key=value");
            labels.put(words.getFirst().text(),
                    String.join(" ", words.subList(1, words.size()).stream().map(ShellWords.Word::text).toList()));
        } else {
            for (ShellWords.Word w : words) {
                if (w.equalsAt() < 0) throw error(line, "LABEL: '" + w.text() + "' is not key=value");
                String key = w.text().substring(0, w.equalsAt());
                if (key.isEmpty()) throw error(line, "LABEL: empty key in '" + w.text() + "'");
                labels.put(key, w.text().substring(w.equalsAt() + 1));
            }
        }
        out.add(new Instruction.Label(labels, line));
    }

    private void arg(String args, int line) throws ContainerfileException {
        List<ShellWords.Word> words = words(args, line);
        if (words.isEmpty()) throw error(line, "ARG needs a name");
        for (ShellWords.Word w : words) {
            String name = w.equalsAt() < 0 ? w.text() : w.text().substring(0, w.equalsAt());
            String dflt = w.equalsAt() < 0 ? null : w.text().substring(w.equalsAt() + 1);
            if (!ShellWords.isName(name)) throw error(line, "ARG: '" + name + "' is not a valid name");
            String value = buildArgs.containsKey(name) ? buildArgs.get(name) : dflt;
            if (value != null) vars.put(name, value);
            out.add(new Instruction.Arg(name, dflt, line));
        }
    }

    private List<ShellWords.Word> words(String args, int line) throws ContainerfileException {
        try {
            return ShellWords.split(args, vars);
        } catch (IllegalArgumentException e) {
            throw error(line, e.getMessage());
        }
    }

    private ContainerfileException error(int line, String problem) {
        return new ContainerfileException(fileName, line, problem);
    }
}
