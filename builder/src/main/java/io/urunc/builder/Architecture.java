package io.urunc.builder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The OCI architecture of a kernel file, read from its ELF or PE header (bzImages carry both MZ/PE and "HdrS"). */
final class Architecture {
    private Architecture() {}

    static Optional<String> of(Path kernel) throws IOException {
        byte[] head = new byte[4096];
        int n;
        try (InputStream in = Files.newInputStream(kernel)) {
            n = in.readNBytes(head, 0, head.length);
        }
        ByteBuffer b = ByteBuffer.wrap(head, 0, n).order(ByteOrder.LITTLE_ENDIAN);
        if (n >= 20 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
            return switch (b.getShort(18) & 0xffff) {
                case 0x3e, 0x03 -> Optional.of("amd64"); // x86-64; 32-bit x86 kernels (PVH, multiboot) boot on amd64 hosts
                case 0xb7 -> Optional.of("arm64");
                case 0xf3 -> Optional.of("riscv64");
                default -> Optional.empty();
            };
        }
        if (n >= 0x40 && head[0] == 'M' && head[1] == 'Z') {
            int pe = b.getInt(0x3c);
            if (pe > 0 && pe + 6 <= n && head[pe] == 'P' && head[pe + 1] == 'E') {
                int machine = b.getShort(pe + 4) & 0xffff;
                if (machine == 0x8664) return Optional.of("amd64");
                if (machine == 0xaa64) return Optional.of("arm64");
            }
        }
        if (n >= 0x206 && head[0x202] == 'H' && head[0x203] == 'd' && head[0x204] == 'r' && head[0x205] == 'S') {
            return Optional.of("amd64");
        }
        return Optional.empty();
    }
}
