package io.urunc.builder;

import java.util.List;
import java.util.Map;

/** One parsed Containerfile instruction; {@code line} is where it starts (1-based). */
public sealed interface Instruction {
    int line();

    /** {@code FROM scratch}: the only base the builder supports. */
    record From(String image, int line) implements Instruction {}

    /** {@code COPY src... dst}: paths relative to the build context, destination inside the image. */
    record Copy(List<String> sources, String destination, int line) implements Instruction {
        public Copy {
            sources = List.copyOf(sources);
        }
    }

    /** {@code LABEL k=v ...}, in the order written. */
    record Label(Map<String, String> labels, int line) implements Instruction {
        public Label {
            labels = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labels));
        }
    }

    /** {@code ARG NAME[=default]}; {@code defaultValue} is null without a default. */
    record Arg(String name, String defaultValue, int line) implements Instruction {}
}
