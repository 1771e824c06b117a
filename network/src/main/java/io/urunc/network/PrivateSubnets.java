package io.urunc.network;

import java.util.List;
import java.util.Optional;

/**
 * Picks a free /30 for a private-mode guest: the first block of the range that overlaps no IPv4 address
 * already present in the namespace. Host side = first usable address (on the tap), guest = second.
 */
final class PrivateSubnets {
    record Block(String hostAddress, String guestAddress) {
        static final int PREFIX = 30;
    }

    private PrivateSubnets() {}

    /** Returns {network, prefix}; rejects anything that is not a.b.c.d/n with n ≤ 30. */
    static int[] parseRange(String cidr) {
        int slash = cidr.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("private range must be a.b.c.d/n, got '" + cidr + "'");
        int prefix;
        try {
            prefix = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("private range must be a.b.c.d/n, got '" + cidr + "'");
        }
        if (prefix < 0 || prefix > 30) {
            throw new IllegalArgumentException("private range needs a prefix of at most /30, got '" + cidr + "'");
        }
        int network = Ipv4.parse(cidr.substring(0, slash)) & Ipv4.mask(prefix);
        return new int[] {network, prefix};
    }

    static Optional<Block> firstFree(String range, List<Link> links) {
        int[] r = parseRange(range);
        long blocks = 1L << (30 - r[1]);
        for (long i = 0; i < blocks; i++) {
            int base = r[0] + (int) (i * 4);
            boolean used = links.stream().flatMap(l -> l.ipv4().stream())
                    .anyMatch(a -> Ipv4.overlaps(base, Block.PREFIX, Ipv4.parse(a.address()), a.prefixLength()));
            if (!used) return Optional.of(new Block(Ipv4.format(base + 1), Ipv4.format(base + 2)));
        }
        return Optional.empty();
    }
}
