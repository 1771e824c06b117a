package io.urunc.network;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NamingAndValidationTest {

    @Test
    void tapNamesAreDeterministicShortAndDistinct() {
        String id = "3f1c2a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a3928171615141312111009";
        assertEquals(TapNames.tapFor(id), TapNames.tapFor(id));
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String name = TapNames.tapFor("container-" + i);
            assertTrue(name.length() <= 15 && name.startsWith("urt"), name);
            names.add(name);
        }
        assertEquals(10_000, names.size());
    }

    @Test
    void tapMarkRoundTripsAndIgnoresForeignAliases() {
        TapMark mark = new TapMark("redirect", "eth0", true, "k8s_app:with:colons");
        assertEquals(Optional.of(mark), TapMark.decode(mark.encode()));
        TapMark priv = new TapMark("private", null, false, "b");
        assertEquals(Optional.of(priv), TapMark.decode(priv.encode()));
        TapMark routed = new TapMark("routed", "eth0", false, true, true, "pod-app");
        assertEquals("urunc:routed:eth0:fc:pod-app", routed.encode());
        assertEquals(Optional.of(routed), TapMark.decode(routed.encode()));
        assertEquals(Optional.of(routed.withOwnsForwarding(false)), TapMark.decode("urunc:routed:eth0:c:pod-app"));
        assertEquals(Optional.of(mark), TapMark.decode("urunc:redirect:eth0:1:k8s_app:with:colons"),
                "a tap marked by an earlier version still decodes");
        assertEquals(Optional.empty(), TapMark.decode("my tap"));
        assertEquals(Optional.empty(), TapMark.decode(""));
    }

    @Test
    void privateBlocksSkipAddressesAlreadyInTheNamespace() {
        Link eth0 = new Link(2, "eth0", "02:00:00:00:00:01", 1500, false, "veth", "",
                List.of(new Link.Address("169.254.100.1", 30)));
        Link other = new Link(3, "x", "02:00:00:00:00:02", 1500, false, "tun", "",
                List.of(new Link.Address("169.254.100.5", 30)));
        assertEquals(new PrivateSubnets.Block("169.254.100.9", "169.254.100.10"),
                PrivateSubnets.firstFree("169.254.100.0/24", List.of(eth0, other)).orElseThrow());
        assertEquals(Optional.empty(), PrivateSubnets.firstFree("169.254.100.0/30", List.of(eth0)));
    }

    @Test
    void badValuesAreRefusedWithClearMessages() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> AttachOptions.defaults().withPrivateRange("10.0.0.0/31")).getMessage().contains("/30"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new GuestNetworkConfig("10.0.0.300", 24, null, "02:00:00:00:00:01", 1500, List.of()))
                .getMessage().contains("10.0.0.300"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new GuestNetworkConfig("10.0.0.3", 24, null, "zz", 1500, List.of())).getMessage().contains("MAC"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TapNames.tapFor("")).getMessage().contains("empty"));
        assertThrows(IllegalArgumentException.class,
                () -> new NetworkAttachment(Path.of("/x"), null, Optional.empty(), "bridge"));
    }

    @Test
    void netmaskMatchesThePrefix() {
        assertEquals("255.255.255.252", new GuestNetworkConfig("10.0.0.2", 30, null, "02:00:00:00:00:01", 1500,
                List.of()).netmask());
        assertEquals("255.255.0.0", new GuestNetworkConfig("10.0.0.2", 16, "10.0.0.1", "02:00:00:00:00:01", 1500,
                List.of()).netmask());
    }
}
