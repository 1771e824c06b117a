package io.urunc.vmm.solo5;

import io.urunc.vmm.VmmException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The devices a Solo5 unikernel declares in its application manifest, the {@code "Solo5"} note of type
 * {@code MFT1} in {@code .note.solo5.manifest} (what {@code solo5-elftool query-manifest} prints). Layout per Solo5's
 * {@code include/mft_abi.h} on a 64-bit target: the descriptor starts with 4 bytes of alignment, then
 * {@code struct mft {u32 version; u32 entries; struct mft_entry e[entries];}}, each entry 104 bytes with its
 * NUL-terminated name in the first 68 and its type at offset 68. The tenders refuse a device that is not declared
 * and one that is declared but not attached, so the command line is built from this list.
 */
public record Solo5Manifest(List<Device> devices) {
    static final int NOTE_TYPE = 0x3154464d;   // "MFT1"
    static final int VERSION = 1, MAX_ENTRIES = 64, ENTRY_SIZE = 104, NAME_SIZE = 68, HEADER_SIZE = 8, DESCRIPTOR_PAD = 4;
    static final int MAX_DESCRIPTOR = DESCRIPTOR_PAD + HEADER_SIZE + MAX_ENTRIES * ENTRY_SIZE;
    static final int TYPE_BLOCK_BASIC = 1, TYPE_NET_BASIC = 2, TYPE_RESERVED_FIRST = 1 << 30;

    public enum Kind { BLOCK_BASIC, NET_BASIC }

    public record Device(String name, Kind kind) {}

    public Solo5Manifest {
        devices = List.copyOf(devices);
    }

    public List<Device> devices(Kind kind) {
        return devices.stream().filter(d -> d.kind() == kind).toList();
    }

    /** Reads the manifest of {@code unikernel}; fails naming the file if it has none or an invalid one. */
    public static Solo5Manifest read(Path unikernel) throws VmmException {
        ByteBuffer m = ElfNote.find(unikernel, "Solo5", NOTE_TYPE, DESCRIPTOR_PAD, MAX_DESCRIPTOR)
                .orElseThrow(() -> new VmmException(unikernel + " has no Solo5 manifest (ELF note .note.solo5.manifest): "
                        + "not a Solo5 unikernel, or built with a Solo5 older than 0.6"));
        return parse(m.order(ByteOrder.LITTLE_ENDIAN), unikernel);
    }

    static Solo5Manifest parse(ByteBuffer m, Path unikernel) throws VmmException {
        String where = unikernel + ": Solo5 manifest";
        if (m.remaining() < HEADER_SIZE) throw new VmmException(where + " is truncated (" + m.remaining() + " bytes)");
        int version = m.getInt(0);
        long entries = Integer.toUnsignedLong(m.getInt(4));
        if (version != VERSION) throw new VmmException(where + " has version " + version + "; this runtime reads version " + VERSION);
        if (entries > MAX_ENTRIES) throw new VmmException(where + " declares " + entries + " entries; Solo5 allows at most " + MAX_ENTRIES);
        if (m.remaining() != HEADER_SIZE + entries * ENTRY_SIZE)
            throw new VmmException(where + " is " + m.remaining() + " bytes, but " + entries + " entries take " + (HEADER_SIZE + entries * ENTRY_SIZE));
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
            int at = HEADER_SIZE + i * ENTRY_SIZE;
            int type = m.getInt(at + NAME_SIZE);
            if (type == TYPE_RESERVED_FIRST) continue;
            String name = name(m, at);
            Kind kind = switch (type) {
                case TYPE_BLOCK_BASIC -> Kind.BLOCK_BASIC;
                case TYPE_NET_BASIC -> Kind.NET_BASIC;
                default -> throw new VmmException(where + " declares device '" + name + "' of type " + Integer.toUnsignedString(type)
                        + ", which this runtime cannot attach (it attaches NET_BASIC and BLOCK_BASIC devices)");
            };
            // solo5-elftool only accepts alphanumeric names; anything else would change the meaning of --net:<name>=...
            if (!name.matches("[A-Za-z0-9]{1," + (NAME_SIZE - 1) + "}"))
                throw new VmmException(where + " declares a " + kind + " device with an invalid name '" + printable(name) + "' (Solo5 names are 1-67 letters and digits)");
            for (Device d : devices)
                if (d.name().equals(name)) throw new VmmException(where + " declares device '" + name + "' twice");
            devices.add(new Device(name, kind));
        }
        return new Solo5Manifest(devices);
    }

    /** The name up to its NUL; like the tenders, the last byte always ends it. */
    private static String name(ByteBuffer m, int at) {
        int len = 0;
        while (len < NAME_SIZE - 1 && m.get(at + len) != 0) len++;
        byte[] b = new byte[len];
        m.get(at, b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) out.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        return out.toString();
    }
}
