package io.urunc.shim.runc;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class ProcStatTest {
    @Test
    void parsesFieldsAfterACommandNameWithSpacesAndParentheses() {
        ProcStat st = ProcStat.parse("4242 (sh -c (x) ) Z 17 4242 4242 0 -1 4228164 0 0 0 0 1 2 0 0 20 0 1 0 98765 1 2")
                .orElseThrow();
        assertEquals(new ProcStat(4242, 'Z', 17, 4242, 98765), st);
        assertTrue(st.zombie());
        assertFalse(ProcStat.parse("1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 1 2").orElseThrow().zombie());
    }

    @Test
    void garbageIsNotAProcess() {
        assertEquals(Optional.empty(), ProcStat.parse(""));
        assertEquals(Optional.empty(), ProcStat.parse("x (a) S 1 2 3"));
        assertEquals(Optional.empty(), ProcStat.parse("5 (a) S 1"));
    }

    @Test
    void readsThisProcess() {
        ProcStat self = ProcStat.read(ProcessHandle.current().pid()).orElseThrow();
        assertEquals(ProcessHandle.current().pid(), self.pid());
        assertFalse(self.zombie());
    }

    @Test
    void runcPsOutputBecomesPids() throws Exception {
        assertEquals(List.of(12, 34), RuncTask.parsePids("[12,34]\n"));
        assertEquals(List.of(), RuncTask.parsePids("null"));
        assertThrows(java.io.IOException.class, () -> RuncTask.parsePids("{\"a\":1}"));
    }
}
