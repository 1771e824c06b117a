package io.urunc.vmm.solo5;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Test unikernels with Solo5 manifests: compiled by gcc from a C declaration of the manifest note (laid out as
 * Solo5's mft_abi.h defines it, with the tenders' reserved first entry), or written byte by byte here for images
 * no toolchain would make.
 */
final class Solo5Images {
    static final int BLOCK = 1, NET = 2, RESERVED_FIRST = 1 << 30;

    record Entry(String name, int type) {}

    private Solo5Images() {}

    static Entry net(String name) { return new Entry(name, NET); }

    static Entry block(String name) { return new Entry(name, BLOCK); }

    /** An x86-64 static executable whose only note is a manifest with a reserved first entry, then {@code entries}. */
    static Path compile(Path dir, String name, List<Entry> entries) throws IOException, InterruptedException {
        StringBuilder e = new StringBuilder("{ .name = \"\", .type = 1u << 30 }");
        for (Entry x : entries) e.append(", { .name = \"").append(x.name()).append("\", .type = ").append(x.type()).append(" }");
        String c = """
                #include <stdbool.h>
                #include <stdint.h>
                struct entry {
                    char name[68];
                    uint32_t type;
                    union { struct { uint64_t capacity; uint16_t block_size; } block; struct { uint8_t mac[6]; uint16_t mtu; } net; } u;
                    union { int hostfd; void *data; } b;
                    bool attached;
                };
                struct nhdr { uint32_t namesz, descsz, type; char name[8]; };
                struct mft { uint32_t version, entries; struct entry e[%d]; };
                struct note { struct nhdr h; struct mft m; };
                const struct note manifest __attribute__((section(".note.solo5.manifest"), aligned(4), used)) = {
                    .h = { sizeof "Solo5", sizeof(struct note) - sizeof(struct nhdr), 0x3154464d, "Solo5" },
                    .m = { 1, %d, { %s } },
                };
                void _start(void) { for (;;) ; }
                """.formatted(entries.size() + 1, entries.size() + 1, e);
        Path src = dir.resolve(name + ".c"), out = dir.resolve(name + ".hvt");
        Files.writeString(src, c);
        Process p = new ProcessBuilder("gcc", "-static", "-nostdlib", "-no-pie", "-O2", "-Wl,--build-id=none", "-o", out.toString(), src.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly();
        assertEquals(0, p.exitValue(), "gcc: " + log);
        return out;
    }

    /** The note descriptor as mft_abi.h lays it out: 4 bytes of alignment, the header, 104-byte entries. */
    static byte[] descriptor(List<Entry> entriesAfterReserved) {
        int n = entriesAfterReserved.size() + 1;
        ByteBuffer b = ByteBuffer.allocate(4 + 8 + n * 104).order(ByteOrder.LITTLE_ENDIAN);
        b.position(4);
        b.putInt(1).putInt(n);
        entry(b, new Entry("", RESERVED_FIRST));
        for (Entry e : entriesAfterReserved) entry(b, e);
        return b.array();
    }

    private static void entry(ByteBuffer b, Entry e) {
        int start = b.position();
        b.put(e.name().getBytes(StandardCharsets.ISO_8859_1));
        b.position(start + 68).putInt(e.type());
        b.position(start + 104);
    }

    /** A minimal ELF64 executable: header, one PT_NOTE program header, one note claiming {@code descsz} bytes. */
    static byte[] elf(String owner, int noteType, long descsz, byte[] descriptor) {
        byte[] ownerBytes = (owner + "\0").getBytes(StandardCharsets.US_ASCII);
        int nameField = (ownerBytes.length + 3) & -4;
        int noteOffset = 64 + 56;
        ByteBuffer b = ByteBuffer.allocate(noteOffset + 12 + nameField + descriptor.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x464c457f).put((byte) 2).put((byte) 1).put((byte) 1);
        b.position(16);
        b.putShort((short) 2).putShort((short) 62).putInt(1);   // ET_EXEC, x86-64, EV_CURRENT
        b.putLong(0x100000).putLong(64).putLong(0);             // entry, phoff, shoff
        b.putInt(0).putShort((short) 64).putShort((short) 56).putShort((short) 1);   // flags, ehsize, phentsize, phnum
        b.position(64);
        b.putInt(4).putInt(4).putLong(noteOffset).putLong(0).putLong(0);   // PT_NOTE, PF_R, offset, vaddr, paddr
        long filesz = 12 + nameField + descriptor.length;
        b.putLong(filesz).putLong(filesz).putLong(4);
        b.position(noteOffset);
        b.putInt(ownerBytes.length).putInt((int) descsz).putInt(noteType).put(ownerBytes);
        b.position(noteOffset + 12 + nameField).put(descriptor);
        return b.array();
    }

    static byte[] elf(List<Entry> entries) {
        byte[] d = descriptor(entries);
        return elf("Solo5", 0x3154464d, d.length, d);
    }

    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }
}
