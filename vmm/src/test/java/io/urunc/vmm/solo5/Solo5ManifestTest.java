package io.urunc.vmm.solo5;

import io.urunc.vmm.VmmException;
import io.urunc.vmm.solo5.Solo5Manifest.Device;
import io.urunc.vmm.solo5.Solo5Manifest.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.urunc.vmm.solo5.Solo5Images.block;
import static io.urunc.vmm.solo5.Solo5Images.net;
import static org.junit.jupiter.api.Assertions.*;

class Solo5ManifestTest {
    @TempDir
    Path dir;

    @Test
    void readsTheDevicesOfAGccBuiltManifestSkippingTheReservedEntry() throws Exception {
        Path elf = Solo5Images.compile(dir, "app", List.of(net("service0"), block("storage"), net("admin")));
        assertEquals(List.of(new Device("service0", Kind.NET_BASIC), new Device("storage", Kind.BLOCK_BASIC), new Device("admin", Kind.NET_BASIC)),
                Solo5Manifest.read(elf).devices());
        assertEquals(List.of(new Device("storage", Kind.BLOCK_BASIC)), Solo5Manifest.read(elf).devices(Kind.BLOCK_BASIC));
    }

    @Test
    void theBytesWrittenHereAreTheLayoutGccMakesOfTheAbi() throws Exception {
        var entries = List.of(net("service"), block("rootfs"));
        Path compiled = Solo5Images.compile(dir, "c", entries);
        ByteBuffer fromGcc = ElfNote.find(compiled, "Solo5", Solo5Manifest.NOTE_TYPE, 0, Solo5Manifest.MAX_DESCRIPTOR).orElseThrow();
        byte[] gcc = new byte[fromGcc.remaining()];
        fromGcc.get(gcc);
        assertArrayEquals(Solo5Images.descriptor(entries), gcc);
        assertEquals(Solo5Manifest.read(compiled), Solo5Manifest.read(Solo5Images.write(dir, "j", Solo5Images.elf(entries))));
    }

    @Test
    void aManifestWithOnlyTheReservedEntryDeclaresNothing() throws Exception {
        assertEquals(List.of(), Solo5Manifest.read(Solo5Images.compile(dir, "none", List.of())).devices());
    }

    @Test
    void anExecutableWithoutAManifestIsNotASolo5Unikernel() throws Exception {
        Path other = Solo5Images.write(dir, "other", Solo5Images.elf("GNU", 3, 4, new byte[4]));
        assertTrue(refused(other).contains("has no Solo5 manifest"));
        assertTrue(refused(Solo5Images.write(dir, "text", "#!/bin/sh\necho hi\n".repeat(10).getBytes())).contains("is not a little-endian ELF64 executable"));
        assertTrue(refused(Solo5Images.write(dir, "short", new byte[10])).contains("ELF header (64 bytes at offset 0) lies beyond the end of the file (10 bytes)"));
    }

    @Test
    void aNoteClaimingFourGibibytesIsRefusedWithoutReadingIt() throws Exception {
        byte[] d = Solo5Images.descriptor(List.of(net("service")));
        Path huge = Solo5Images.write(dir, "huge", Solo5Images.elf("Solo5", Solo5Manifest.NOTE_TYPE, 0xFFFF_FFFFL, d));
        assertTrue(refused(huge).contains("Solo5 note of 4294967295 bytes (expected 5 to 6668)"), refused(huge));
        Path longer = Solo5Images.write(dir, "longer", Solo5Images.elf("Solo5", Solo5Manifest.NOTE_TYPE, d.length + 104, d));
        assertTrue(refused(longer).contains("does not fit its segment"), refused(longer));
    }

    @Test
    void headersPointingOutsideTheFileAreRefused() throws Exception {
        byte[] elf = Solo5Images.elf(List.of(net("service")));
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(32, 1L << 40);   // e_phoff
        assertTrue(refused(Solo5Images.write(dir, "phoff", elf)).contains("program header 0"));
        b.putLong(32, -8);         // e_phoff wrapping around
        assertTrue(refused(Solo5Images.write(dir, "wrap", elf)).contains("invalid executable"));
        elf = Solo5Images.elf(List.of(net("service")));
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 8, Long.MAX_VALUE - 4);   // p_offset
        assertTrue(refused(Solo5Images.write(dir, "poff", elf)).contains("lies beyond the end of the file"));
        elf = Solo5Images.elf(List.of(net("service")));
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 32, 8);   // p_filesz below a note header
        assertTrue(refused(Solo5Images.write(dir, "tiny", elf)).contains("less than a note header"));
        elf = Solo5Images.elf(List.of(net("service")));
        ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN).putLong(64 + 32, -1);  // p_filesz of 2^64-1, as the tenders read it
        assertEquals(List.of(new Device("service", Kind.NET_BASIC)), Solo5Manifest.read(Solo5Images.write(dir, "hugeseg", elf)).devices());
        byte[] truncated = Arrays.copyOf(Solo5Images.elf(List.of(net("service"))), 200);
        assertTrue(refused(Solo5Images.write(dir, "trunc", truncated)).contains("lies beyond the end of the file"));
    }

    @Test
    void inconsistentOrHostileManifestsAreRefusedNamingTheProblem() throws Exception {
        byte[] d = Solo5Images.descriptor(List.of(net("service")));
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 1000);
        assertTrue(refused(withDescriptor("many", d)).contains("declares 1000 entries; Solo5 allows at most 64"));

        d = Solo5Images.descriptor(List.of(net("service")));
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 3);
        assertTrue(refused(withDescriptor("count", d)).contains("but 3 entries take 320"));

        d = Solo5Images.descriptor(List.of(net("service")));
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 2);
        assertTrue(refused(withDescriptor("version", d)).contains("has version 2"));

        assertTrue(refused(withDescriptor("name", Solo5Images.descriptor(List.of(net("a=b"))))).contains("invalid name 'a=b'"));
        assertTrue(refused(withDescriptor("twice", Solo5Images.descriptor(List.of(net("n"), block("n"))))).contains("declares device 'n' twice"));
        assertTrue(refused(withDescriptor("type", Solo5Images.descriptor(List.of(new Solo5Images.Entry("pci0", 3))))).contains("device 'pci0' of type 3"));
    }

    @Test
    void aNameFillingAllSixtyEightBytesIsCutAtTheLastLikeTheTendersDo() throws Exception {
        String sixtyEight = "n".repeat(68);
        assertEquals("n".repeat(67), Solo5Manifest.read(withDescriptor("long", Solo5Images.descriptor(List.of(net(sixtyEight))))).devices().getFirst().name());
    }

    private Path withDescriptor(String name, byte[] d) throws Exception {
        return Solo5Images.write(dir, name, Solo5Images.elf("Solo5", Solo5Manifest.NOTE_TYPE, d.length, d));
    }

    private static String refused(Path elf) {
        return assertThrows(VmmException.class, () -> Solo5Manifest.read(elf)).getMessage();
    }
}
