package io.urunc.network;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodRulesTest {
    @Test
    void portListsParseWithProtocolsAndRefuseNonsenseNamingTheEntry() {
        assertEquals(List.of(new GuestPort(80, "tcp"), new GuestPort(8080, "tcp"), new GuestPort(53, "udp")),
                GuestPort.parseList(" 80, 8080/TCP 53/udp,80"));
        assertEquals(List.of(), GuestPort.parseList(""));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GuestPort.parseList("80,http"))
                .getMessage().contains("'http'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GuestPort.parseList("70000"))
                .getMessage().contains("1..65535"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GuestPort.parseList("80/sctp"))
                .getMessage().contains("tcp or udp"));
    }

    @Test
    void theScriptSendsDeclaredPortsAndOnlyTheFirstGuestTakesTheRest() {
        String first = PodRules.script("urt0", "eth0", "10.0.0.5", "169.254.100.2",
                List.of(new GuestPort(80, "tcp"), new GuestPort(53, "udp")), true);
        assertTrue(first.contains("iifname \"eth0\" ip daddr 10.0.0.5 tcp dport { 80 } dnat to 169.254.100.2"), first);
        assertTrue(first.contains("ip daddr { 127.0.0.1, 10.0.0.5 } udp dport { 53 } dnat to 169.254.100.2"), first);
        assertTrue(first.contains("socket transparent { 0, 1 } return"), first);
        assertTrue(first.contains("oifname \"eth0\" ip saddr 169.254.100.2 masquerade"), first);
        String second = PodRules.script("urt1", "eth0", "10.0.0.5", "169.254.100.6", List.of(), false);
        assertFalse(second.contains("dnat"), second);
        assertEquals(List.of(new GuestPort(80, "tcp"), new GuestPort(53, "udp")), PodRules.declaredPorts(first));
        assertThrows(IllegalArgumentException.class,
                () -> PodRules.script("urt0", "eth0\"; flush ruleset", "10.0.0.5", "169.254.100.2", List.of(), true));
    }
}
