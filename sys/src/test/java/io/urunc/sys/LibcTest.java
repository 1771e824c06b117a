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

    @Test
    void aPipeCarriesBytesAndDup2MovesADescriptor(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int[] pipe = Libc.pipe();
        int file = Libc.open(dir.resolve("out").toString(), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_CLOEXEC, 0600);
        try {
            // the write end onto the file's descriptor: what is written there then goes to the pipe
            Libc.dup2(pipe[1], file);
            Libc.dup2(file, file); // onto itself: nothing to do, and no error
            Files.writeString(Path.of("/proc/self/fd/" + file), "through the pipe");
            Libc.close(pipe[1]);
            Libc.close(file);
            file = -1;
            try (var in = new java.io.FileInputStream("/proc/self/fd/" + pipe[0])) {
                assertEquals("through the pipe", new String(in.readAllBytes()));
            }
        } finally {
            Libc.close(pipe[0]);
            if (file >= 0) Libc.close(file);
        }
        assertTrue(Files.readString(dir.resolve("out")).isEmpty());
    }

    @Test
    void fcntlReadsAndSetsTheDescriptorsFlags(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        int fd = Libc.open(dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        try {
            int flags = Libc.fcntl(fd, 3 /* F_GETFL */, 0);
            assertEquals(0, flags & Libc.O_NONBLOCK);
            Libc.fcntl(fd, 4 /* F_SETFL */, flags | Libc.O_NONBLOCK);
            assertEquals(Libc.O_NONBLOCK, Libc.fcntl(fd, 3, 0) & Libc.O_NONBLOCK);
        } finally {
            Libc.close(fd);
        }
        assertEquals(Errno.EBADF, assertThrows(SysException.class, () -> Libc.fcntl(fd, 3, 0)).errno());
    }

    @Test
    void openat2RefusesToClimbOutOfItsDirectory(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("inside"), "x");
        int root = Libc.open(dir.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        try {
            int fd = Libc.openat2(root, "inside", Libc.O_RDONLY | Libc.O_CLOEXEC, Libc.RESOLVE_BENEATH, "inside");
            Libc.close(fd);
            SysException e = assertThrows(SysException.class,
                    () -> Libc.openat2(root, "../x", Libc.O_RDONLY | Libc.O_CLOEXEC, Libc.RESOLVE_BENEATH, "../x"));
            assertEquals(Errno.EXDEV, e.errno());
            assertTrue(e.getMessage().contains("openat2 ../x"), e.getMessage());
        } finally {
            Libc.close(root);
        }
    }

    @Test
    void umaskAndGeteuidAnswerAsTheKernelSees() throws Exception {
        int before = Umask.set(077);
        try {
            assertEquals(077, Umask.set(077));
            String mask = Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Umask:")).findFirst().orElseThrow();
            assertEquals("0077", mask.substring(6).trim());
        } finally {
            Umask.set(before);
        }
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
        assertEquals(uid.split("\\s+")[2], Integer.toString(Libc.geteuid()));
    }

    @Test
    void systemCallNumbersAreKnownForBothArchitecturesAndRefusedForOthers() {
        NativeCalls.Numbers x86 = NativeCalls.Numbers.of("amd64"), arm = NativeCalls.Numbers.of("aarch64");
        assertEquals(257, x86.openat());
        assertEquals(56, arm.openat());
        assertEquals(-1, arm.dup2()); // AArch64 has dup3 only
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> NativeCalls.Numbers.of("riscv64"));
        assertTrue(e.getMessage().contains("riscv64"), e.getMessage());
    }
}
