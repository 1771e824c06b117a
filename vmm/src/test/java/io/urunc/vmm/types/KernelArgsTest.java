package io.urunc.vmm.types;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class KernelArgsTest {
    @Test
    void wordsTheKernelWouldSplitAtByteA0AreQuoted() {
        // Linux's isspace() is Latin-1: byte 0xA0 splits words, and UTF-8 carries it inside these characters
        assertEquals("\"a\u00a0b\"", KernelArgs.quote("a\u00a0b", "arg"));
        assertEquals("\"Рим\"", KernelArgs.quote("Рим", "arg")); // Р is D0 A0
        assertEquals("MSG=\"привет\u00a0мир\"", KernelArgs.envAssignment("MSG", "привет\u00a0мир"));
    }

    @Test
    void plainWordsStayAsTheyAre() {
        assertEquals("héllo", KernelArgs.quote("héllo", "arg")); // é is C3 A9
        assertEquals("\"a b\"", KernelArgs.quote("a b", "arg"));
        assertEquals("\"\"", KernelArgs.quote("", "arg"));
    }
}
