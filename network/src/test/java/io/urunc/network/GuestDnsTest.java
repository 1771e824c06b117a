package io.urunc.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GuestDnsTest {
    private Path dir;

    @BeforeEach
    void createDir() throws IOException {
        dir = Files.createTempDirectory("urjt-dns");
    }

    @AfterEach
    void removeDir() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(dir);
    }

    private Path file(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void reachableContainerNameserversAreKeptLoopbackAndIpv6Dropped() throws IOException {
        Path c = file("c", "search svc.local\nnameserver 127.0.0.11\nnameserver 10.96.0.10\nnameserver fd00::1\n");
        assertEquals(List.of("10.96.0.10"), GuestDns.choose(c, List.of(file("h", "nameserver 1.1.1.1\n")), "10.0.0.1"));
    }

    @Test
    void dockerEmbeddedResolverIsReplacedByItsRecordedUpstreams() throws IOException {
        Path c = file("c", "nameserver 127.0.0.11\noptions ndots:0\n\n# Based on host file: '/etc/resolv.conf' (internal resolver)\n"
                + "# ExtServers: [host(192.0.2.1) 198.51.100.7]\n");
        assertEquals(List.of("192.0.2.1", "198.51.100.7"), GuestDns.choose(c, List.of(), "10.0.0.1"));
    }

    @Test
    void onlyLoopbackInTheContainerFallsBackToTheHostsNonLoopbackServers() throws IOException {
        Path c = file("c", "nameserver 127.0.0.11\n");
        Path resolved = file("resolved", "nameserver 127.0.0.53\n");
        Path etc = file("etc", "nameserver 127.0.0.53\nnameserver 203.0.113.5\nnameserver 203.0.113.6\n");
        assertEquals(List.of("203.0.113.5", "203.0.113.6"),
                GuestDns.choose(c, List.of(dir.resolve("missing"), resolved, etc), "10.0.0.1"));
    }

    @Test
    void withNothingUsableTheGatewayIsTheResolver() throws IOException {
        Path c = file("c", "nameserver 127.0.0.11\n");
        assertEquals(List.of("10.0.0.1"), GuestDns.choose(c, List.of(file("h", "nameserver 127.0.0.53\n")), "10.0.0.1"));
        assertEquals(List.of(), GuestDns.choose(c, List.of(), null));
    }

    @Test
    void atMostThreeServersLikeResolvConf() throws IOException {
        Path c = file("c", "nameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n");
        assertEquals(List.of("10.0.0.1", "10.0.0.2", "10.0.0.3"), GuestDns.choose(c, List.of(), null));
    }

    @Test
    void anImageResolvConfOfGigabytesIsIgnoredNotRead() throws IOException {
        // a sparse 3 GiB file costs the image nothing; read whole it would take the daemon's heap
        Path c = file("c", "nameserver 10.96.0.10\n");
        try (var f = new java.io.RandomAccessFile(c.toFile(), "rw")) {
            f.setLength(3L << 30);
        }
        assertEquals(List.of("1.1.1.1"), GuestDns.choose(c, List.of(file("h", "nameserver 1.1.1.1\n")), null));
    }
}
