package io.urunc.network;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * A port the guest serves, as an image declares it ({@code com.urunc.unikernel.ports}: {@code 80},
 * {@code 8080/tcp}, {@code 53/udp}, separated by commas or white space). In a pod these are the ports the pod's
 * other containers reach on {@code localhost} and on the pod IP, as they would an ordinary container's.
 */
public record GuestPort(int port, String protocol) {
    public GuestPort {
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be 1..65535, got " + port);
        if (!protocol.equals("tcp") && !protocol.equals("udp")) {
            throw new IllegalArgumentException("protocol must be tcp or udp, got '" + protocol + "'");
        }
    }

    /** Parses a list; an empty or blank text is no ports; anything else malformed throws naming the entry. */
    public static List<GuestPort> parseList(String text) {
        LinkedHashSet<GuestPort> ports = new LinkedHashSet<>();
        if (text == null) return List.of();
        for (String entry : text.strip().split("[,\\s]+")) {
            if (entry.isEmpty()) continue;
            String[] parts = entry.split("/", -1);
            if (parts.length > 2) throw new IllegalArgumentException("'" + entry + "' is not PORT or PORT/PROTOCOL");
            int port;
            try {
                port = Integer.parseInt(parts[0]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + entry + "': '" + parts[0] + "' is not a port number");
            }
            String protocol = parts.length == 2 ? parts[1].toLowerCase(Locale.ROOT) : "tcp";
            try {
                ports.add(new GuestPort(port, protocol));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + entry + "': " + e.getMessage());
            }
        }
        return List.copyOf(new ArrayList<>(ports));
    }

    @Override
    public String toString() {
        return port + "/" + protocol;
    }
}
