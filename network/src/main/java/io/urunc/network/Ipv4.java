package io.urunc.network;

/** IPv4 addresses as ints: parsing with clear errors, formatting, prefix arithmetic. */
final class Ipv4 {
    private Ipv4() {}

    static int parse(String dotted) {
        String[] parts = dotted.split("\\.", -1);
        if (parts.length != 4) throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
        int value = 0;
        for (String part : parts) {
            int octet;
            try {
                octet = Integer.parseInt(part);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            }
            if (octet < 0 || octet > 255 || part.isEmpty() || part.length() > 3) {
                throw new IllegalArgumentException("not an IPv4 address: '" + dotted + "'");
            }
            value = (value << 8) | octet;
        }
        return value;
    }

    static boolean isValid(String dotted) {
        try {
            parse(dotted);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static String format(int value) {
        return ((value >>> 24) & 0xFF) + "." + ((value >>> 16) & 0xFF) + "." + ((value >>> 8) & 0xFF) + "." + (value & 0xFF);
    }

    static int mask(int prefixLength) {
        return prefixLength == 0 ? 0 : (int) (0xFFFFFFFFL << (32 - prefixLength));
    }

    static boolean isLoopback(String dotted) {
        return (parse(dotted) >>> 24) == 127;
    }

    /** True when the two networks share at least one address. */
    static boolean overlaps(int a, int prefixA, int b, int prefixB) {
        int common = Math.min(prefixA, prefixB);
        return ((a ^ b) & mask(common)) == 0;
    }
}
