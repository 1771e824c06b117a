package io.urunc.vmm.solo5;

import io.urunc.vmm.VmmException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Finds one ELF note in an executable as Solo5's tenders do ({@code elf_load_note} in
 * {@code tenders/common/elf.c}): a little-endian ELF64 executable for this machine, the note being the first one of a
 * {@code PT_NOTE} segment. The file comes from an image, so every size in it is checked against the file and a fixed
 * maximum before anything is read: nothing is allocated from a size the file claims.
 */
final class ElfNote {
    private static final int EHDR_SIZE = 64, PHDR_SIZE = 56, NHDR_SIZE = 12;
    private static final int PT_NOTE = 4, ET_EXEC = 2;

    private ElfNote() {}

    /**
     * The descriptor of the note owned by {@code owner} with {@code type}, without its first {@code pad} bytes
     * (alignment inside the descriptor); empty if the executable has none.
     *
     * @param maxDescriptor the largest descriptor accepted; a larger one is an error, never a read
     */
    static Optional<ByteBuffer> find(Path elf, String owner, int type, int pad, int maxDescriptor) throws VmmException {
        try (FileChannel ch = FileChannel.open(elf, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer eh = read(ch, 0, EHDR_SIZE, size, elf, "ELF header");
            checkHeader(eh, elf);
            long phoff = eh.getLong(32);
            int phnum = Short.toUnsignedInt(eh.getShort(56));
            byte[] ownerBytes = (owner + "\0").getBytes(StandardCharsets.US_ASCII);
            int nameField = (ownerBytes.length + 3) & -4;
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = read(ch, offset(phoff, (long) i * PHDR_SIZE, elf), PHDR_SIZE, size, elf, "program header " + i);
                if (ph.getInt(0) != PT_NOTE) continue;
                long pOffset = ph.getLong(8), pFilesz = ph.getLong(32);
                if (Long.compareUnsigned(pFilesz, NHDR_SIZE) < 0)
                    throw new VmmException(elf + ": invalid executable: note segment of program header " + i + " is "
                            + pFilesz + " bytes, less than a note header");
                if (Long.compareUnsigned(pFilesz, NHDR_SIZE + nameField) < 0) continue;
                ByteBuffer nh = read(ch, pOffset, NHDR_SIZE + nameField, size, elf, "note header of program header " + i);
                if (nh.getInt(0) != ownerBytes.length || nh.getInt(8) != type
                        || !nh.slice(NHDR_SIZE, ownerBytes.length).equals(ByteBuffer.wrap(ownerBytes))) continue;
                long descsz = Integer.toUnsignedLong(nh.getInt(4));
                if (descsz <= pad || descsz > maxDescriptor)
                    throw new VmmException(elf + ": invalid executable: " + owner + " note of " + descsz + " bytes (expected "
                            + (pad + 1) + " to " + maxDescriptor + ")");
                if (Long.compareUnsigned(pFilesz, NHDR_SIZE + nameField + descsz) < 0)
                    throw new VmmException(elf + ": invalid executable: " + owner + " note of " + descsz
                            + " bytes does not fit its segment of " + Long.toUnsignedString(pFilesz) + " bytes");
                return Optional.of(read(ch, offset(pOffset, NHDR_SIZE + nameField + pad, elf), (int) descsz - pad, size, elf, owner + " note"));
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new VmmException("cannot read " + elf + ": " + e.getMessage(), e);
        }
    }

    private static void checkHeader(ByteBuffer eh, Path elf) throws VmmException {
        boolean elf64le = eh.getInt(0) == 0x464c457f && eh.get(4) == 2 && eh.get(5) == 1 && eh.getInt(20) == 1;
        if (!elf64le) throw new VmmException(elf + " is not a little-endian ELF64 executable");
        int machine = Short.toUnsignedInt(eh.getShort(18));
        if (Short.toUnsignedInt(eh.getShort(16)) != ET_EXEC || machine != hostMachine())
            throw new VmmException(elf + " is not an executable for this machine (ELF type " + eh.getShort(16) + ", machine " + machine + ")");
        if (Short.toUnsignedInt(eh.getShort(52)) != EHDR_SIZE || Short.toUnsignedInt(eh.getShort(54)) != PHDR_SIZE || eh.getShort(56) == 0)
            throw new VmmException(elf + ": invalid executable: unexpected ELF header or program header sizes, or no program headers");
    }

    private static int hostMachine() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64" -> 183;
            case "riscv64" -> 243;
            default -> 62;   // x86-64
        };
    }

    private static long offset(long base, long add, Path elf) throws VmmException {
        try {
            return Math.addExact(base, add);
        } catch (ArithmeticException e) {
            throw new VmmException(elf + ": invalid executable: file offset overflows");
        }
    }

    /** Exactly {@code length} bytes at {@code position}, which must lie inside the file. */
    private static ByteBuffer read(FileChannel ch, long position, int length, long size, Path elf, String what)
            throws IOException, VmmException {
        if (position < 0 || position > size || length > size - position)
            throw new VmmException(elf + ": invalid executable: " + what + " (" + length + " bytes at offset "
                    + Long.toUnsignedString(position) + ") lies beyond the end of the file (" + size + " bytes)");
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, position + b.position()) < 0) throw new VmmException(elf + ": file shrank while reading " + what);
        }
        return b.flip();
    }
}
