package io.urunc.sys;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class LibcTest {
    @Test
    void getpidMatchesTheJvm() {
        assertEquals(ProcessHandle.current().pid(), Libc.getpid());
    }

    @Test
    void failedCallNamesCallAndErrno() {
        SysException e = assertThrows(SysException.class, () -> Libc.open("/nonexistent/x", Libc.O_RDONLY, 0));
        assertEquals(Errno.ENOENT, e.errno());
        assertTrue(e.getMessage().contains("open /nonexistent/x"), e.getMessage());
        assertTrue(e.getMessage().contains("ENOENT (No such file or directory)"), e.getMessage());
    }

    @Test
    void mkfifoCreatesAFifo(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("f");
        Libc.mkfifo(fifo.toString(), 0600);
        assertTrue(Files.exists(fifo));
        assertFalse(Files.isRegularFile(fifo));
        SysException e = assertThrows(SysException.class, () -> Libc.mkfifo(fifo.toString(), 0600));
        assertEquals(Errno.EEXIST, e.errno());
    }

    @Test
    void pidfdOfOurselvesCanBeSignalledWithZero() throws Exception {
        int fd = Libc.pidfdOpen(Libc.getpid());
        try {
            Libc.pidfdSendSignal(fd, 0);
        } finally {
            Libc.close(fd);
        }
        SysException e = assertThrows(SysException.class, () -> Libc.kill(Integer.MAX_VALUE, 0));
        assertEquals(Errno.ESRCH, e.errno());
    }
}
