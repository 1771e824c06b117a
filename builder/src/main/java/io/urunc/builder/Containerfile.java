package io.urunc.builder;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A parsed Containerfile: its instructions in order, with ARG values already substituted. */
public record Containerfile(String fileName, List<Instruction> instructions) {
    public Containerfile {
        instructions = List.copyOf(instructions);
    }

    public List<Instruction.Copy> copies() {
        return instructions.stream().filter(Instruction.Copy.class::isInstance).map(Instruction.Copy.class::cast).toList();
    }

    /** All labels; a later LABEL overrides an earlier one with the same key. */
    public Map<String, String> labels() {
        Map<String, String> all = new LinkedHashMap<>();
        for (Instruction i : instructions) {
            if (i instanceof Instruction.Label l) all.putAll(l.labels());
        }
        return all;
    }

    /** The line of the LABEL instruction that last set {@code key}, or 0. */
    public int labelLine(String key) {
        int line = 0;
        for (Instruction i : instructions) {
            if (i instanceof Instruction.Label l && l.labels().containsKey(key)) line = l.line();
        }
        return line;
    }
}
