package io.urunc.builder;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContainerfileParserTest {
    private static Containerfile parse(String text) throws ContainerfileException {
        return ContainerfileParser.parse("Containerfile", text, Map.of());
    }

    private static ContainerfileException failure(String text) {
        return assertThrows(ContainerfileException.class, () -> parse(text));
    }

    @Test
    void labelsWithQuotesSeveralPerLineAndContinuations() throws Exception {
        Containerfile cf = parse("""
                # comment
                FROM scratch

                LABEL a=1 "b"='two words' c="say \\"hi\\"" \\
                      # a comment inside the continuation is dropped
                      d=x\\ y \\
                      e="${UNSET}"
                LABEL legacy value with spaces
                LABEL a=override
                """);
        assertEquals(Map.of("a", "override", "b", "two words", "c", "say \"hi\"", "d", "x y", "e", "",
                "legacy", "value with spaces"), cf.labels());
        assertEquals(4, cf.labelLine("b"));
        assertEquals(9, cf.labelLine("a"));
    }

    @Test
    void argDefaultsAndBuildArgsExpandInLabelsAndCopy() throws Exception {
        Containerfile cf = ContainerfileParser.parse("Containerfile", """
                ARG KERNEL=vmlinuz
                FROM scratch
                ARG CMD="exit=0"
                COPY ${KERNEL} /boot/$KERNEL
                LABEL cmd=$CMD single='$CMD' dflt=${NOPE:-fallback}
                """, Map.of("CMD", "exit=3"));
        assertEquals(List.of(new Instruction.Copy(List.of("vmlinuz"), "/boot/vmlinuz", 4)), cf.copies());
        assertEquals(Map.of("cmd", "exit=3", "single", "$CMD", "dflt", "fallback"), cf.labels());
    }

    @Test
    void copyJsonFormAndSeveralSources() throws Exception {
        Containerfile cf = parse("""
                from scratch
                copy ["a b.txt", "c", "/dst/"]
                COPY x y /data/
                """);
        assertEquals(List.of(new Instruction.Copy(List.of("a b.txt", "c"), "/dst/", 2),
                new Instruction.Copy(List.of("x", "y"), "/data/", 3)), cf.copies());
    }

    @Test
    void errorsNameFileAndLine() {
        assertEquals("Containerfile:3: RUN is not supported: a unikernel image is assembled without running anything;"
                + " urunc-build understands FROM scratch, COPY, LABEL and ARG", failure("FROM scratch\n\nRUN make\n").getMessage());
        assertTrue(failure("FROM debian:12\n").getMessage().startsWith("Containerfile:1: FROM debian:12: only FROM scratch is supported"));
        assertEquals(2, failure("FROM scratch\nCOPY onlyone\n").line());
        assertEquals(2, failure("FROM scratch\nLABEL a=\"unterminated\n").line());
        assertTrue(failure("FROM scratch\nLABEL a=\"x\" \\\n  b='open\n").getMessage().startsWith("Containerfile:2: unterminated single quote"));
        assertTrue(failure("COPY a /a\nFROM scratch\n").getMessage().startsWith("Containerfile:1: COPY before FROM"));
        assertTrue(failure("FROM scratch\nFROM scratch\n").getMessage().contains("multi-stage"));
        assertTrue(failure("# nothing\n").getMessage().contains("no FROM instruction"));
        assertTrue(failure("FROM scratch\nCOPY --from=x a /a\n").getMessage().contains("COPY option --from=x is not supported"));
        assertTrue(failure("FROM scratch\nFOO bar\n").getMessage().contains("unknown instruction 'FOO'"));
        assertTrue(failure("FROM scratch\nLABEL a=1 b\n").getMessage().contains("'b' is not key=value"));
        assertTrue(failure("FROM scratch\nCOPY [\"a\", 1\n").getMessage().startsWith("Containerfile:2: COPY [...] is not a JSON array"));
    }
}
