package io.urunc.network;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The batch scripts attach hands to ip/tc, and what a failure on line N leaves to undo. */
class BatchTest {
    private static Batch redirectTc() {
        return new Batch("tc")
                .add("qdisc", "add", "dev", "urt1", "ingress")
                .add("filter", "add", "dev", "urt1", "parent", "ffff:", "protocol", "all", "pref", "49374", "u32",
                        "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev", "eth0")
                .addUndoable(List.of("tc", "qdisc", "del", "dev", "eth0", "ingress"), "qdisc", "add", "dev", "eth0", "ingress")
                .addUndoable(List.of("tc", "filter", "del", "dev", "eth0", "parent", "ffff:", "pref", "49374"),
                        "filter", "add", "dev", "eth0", "parent", "ffff:", "pref", "49374", "u32", "match", "u32", "0", "0");
    }

    @Test
    void theScriptIsOneCommandALineWithoutTheToolsName() {
        Batch b = new Batch("ip").add("tuntap", "add", "dev", "urt1", "mode", "tap", "vnet_hdr")
                .add("link", "set", "dev", "urt1", "alias", "urunc:redirect:eth0:1:ctr-1", "mtu", "1400", "up");
        assertEquals("tuntap add dev urt1 mode tap vnet_hdr\nlink set dev urt1 alias urunc:redirect:eth0:1:ctr-1 mtu 1400 up\n",
                b.script());
        assertEquals(List.of("ip", "link", "set", "dev", "urt1", "alias", "urunc:redirect:eth0:1:ctr-1", "mtu", "1400", "up"),
                List.of(b.argv(1)));
        assertTrue(b.batchable());
    }

    @Test
    void wordsTheBatchReaderWouldTakeApartMakeItRunOneCommandALine() {
        for (String name : List.of("up#link", "it's", "a\"b", "back\\slash", "two words", "tab\there", "")) {
            assertFalse(new Batch("tc").add("qdisc", "add", "dev", name, "ingress").batchable(), name);
        }
        assertTrue(new Batch("ip").add("addr", "add", "169.254.100.1/30", "dev", "urt-a_b.c@d+e=f,g").batchable());
    }

    @Test
    void theFailedLineComesFromTheToolsTrailerCountingFromZero() {
        assertEquals(OptionalInt.of(2), Batch.failedLine("Error: Exclusivity flag on, cannot modify.\nCommand failed -:3\n"));
        assertEquals(OptionalInt.of(0), Batch.failedLine("ioctl(TUNSETIFF): Device or resource busy\nCommand failed -:1"));
        assertEquals(OptionalInt.empty(), Batch.failedLine("Segmentation fault"));
        assertEquals(OptionalInt.empty(), Batch.failedLine("Error: Command failed -:3 is not at the start of a line"));
        assertEquals("Error: Exclusivity flag on, cannot modify.",
                Batch.errorWithoutTrailer("Error: Exclusivity flag on, cannot modify.\nCommand failed -:3\n"));
    }

    @Test
    void aFailureUndoesOnlyWhatTheLinesBeforeItDidLastFirst() {
        Batch tc = redirectTc();
        // the uplink's qdisc could not be added: nothing on the uplink is ours (the tap's rules die with the tap)
        assertEquals(List.of(), tc.undosAfterFailureAt(OptionalInt.of(2)));
        // its filter failed: the qdisc added just before is
        assertEquals(List.of(List.of("tc", "qdisc", "del", "dev", "eth0", "ingress")), tc.undosAfterFailureAt(OptionalInt.of(3)));
        assertEquals(List.of(List.of("tc", "filter", "del", "dev", "eth0", "parent", "ffff:", "pref", "49374"),
                List.of("tc", "qdisc", "del", "dev", "eth0", "ingress")), tc.undos());
        // the tool named no line: any may have run, and undoing the uplink's could remove someone else's qdisc
        assertEquals(List.of(), tc.undosAfterFailureAt(OptionalInt.empty()));
    }

    @Test
    void whenUnsureWhatRanOnlyWhatIsNamedForTheContainerIsUndone() {
        Batch ip = new Batch("ip").addOwned(List.of("ip", "link", "del", "dev", "urt1"), "tuntap", "add", "dev", "urt1")
                .add("link", "set", "dev", "urt1", "up")
                .addUndoable(List.of("ip", "addr", "del", "10.0.0.1/30", "dev", "eth0"), "addr", "add", "10.0.0.1/30", "dev", "eth0");
        assertEquals(List.of(List.of("ip", "link", "del", "dev", "urt1")), ip.undosAfterFailureAt(OptionalInt.empty()));
        assertEquals(List.of(List.of("ip", "addr", "del", "10.0.0.1/30", "dev", "eth0"), List.of("ip", "link", "del", "dev", "urt1")),
                ip.undos());
    }

    @Test
    void aFailureInALaterBatchAlsoUndoesTheBatchesBeforeIt() {
        Batch ip = new Batch("ip").addUndoable(List.of("ip", "link", "del", "dev", "urt1"), "tuntap", "add", "dev", "urt1");
        Batch.Failed f = new Batch.Failed(redirectTc(), 3, java.nio.file.Path.of("/x"), 1, "Error: File exists.")
                .after(ip.undos());
        assertEquals(List.of(List.of("tc", "qdisc", "del", "dev", "eth0", "ingress"), List.of("ip", "link", "del", "dev", "urt1")),
                f.undos());
        assertTrue(f.getMessage().contains("'tc filter add dev eth0 parent ffff: pref 49374"), f.getMessage());
        assertTrue(f.getMessage().contains("File exists"), f.getMessage());
    }
}
