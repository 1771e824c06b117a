package io.urunc.vmm;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class VmmUserTest {
    @Test
    void eachTaskGetsAStableUnprivilegedIdInTheRange() {
        VmmUser a = VmmUser.forTask(VmmUser.DEFAULT_BASE, "0123456789abcdef");
        assertEquals(a, VmmUser.forTask(VmmUser.DEFAULT_BASE, "0123456789abcdef"), "stable across daemon restarts");
        assertTrue(a.uid() >= VmmUser.DEFAULT_BASE && a.uid() < VmmUser.DEFAULT_BASE + VmmUser.RANGE, a.toString());
        assertEquals(a.uid(), a.gid());
        Set<Long> ids = new HashSet<>();
        for (int i = 0; i < 200; i++) ids.add(VmmUser.forTask(VmmUser.DEFAULT_BASE, "task-" + i).uid());
        assertTrue(ids.size() >= 199, "200 tasks, at most one shared id: " + ids.size());
    }

    @Test
    void idsThatAreRootOrOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new VmmUser(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new VmmUser(5, 0xFFFF_FFFFL));
        assertThrows(IllegalArgumentException.class, () -> VmmUser.forTask(VmmUser.MAX_BASE + 1, "t"));
        assertEquals("7:8", new VmmUser(7, 8).uidGid());
    }
}
