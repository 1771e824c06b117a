package io.urunc.network;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The result of {@link UnikernelNetwork#attach}: the tap the VMM must open by name inside {@code netns}
 * ({@code null} in mode {@code none}), what the guest must configure, and the mode:
 * <ul>
 *   <li>{@code redirect}: the guest took over the container's interface (its IPv4, gateway and MAC);</li>
 *   <li>{@code private}: another VM already owns the interface; this guest got a private /30 on its tap,
 *       reachable from inside the namespace only;</li>
 *   <li>{@code routed}: a pod's guest on a private /30, with the pod IP's connections forwarded to it and its own
 *       masqueraded, so the pod's other containers keep the interface (see {@link PodRules});</li>
 *   <li>{@code none}: the namespace has no usable interface; start the VM without a NIC.</li>
 * </ul>
 */
public record NetworkAttachment(Path netns, String tapName, Optional<GuestNetworkConfig> guest, String mode) {
    public static final String REDIRECT = "redirect", PRIVATE = "private", ROUTED = "routed", NONE = "none";

    public NetworkAttachment {
        Objects.requireNonNull(netns, "netns");
        Objects.requireNonNull(guest, "guest");
        if (!REDIRECT.equals(mode) && !PRIVATE.equals(mode) && !ROUTED.equals(mode) && !NONE.equals(mode)) {
            throw new IllegalArgumentException("mode must be redirect, private, routed or none, got '" + mode + "'");
        }
        if (NONE.equals(mode) != (tapName == null)) {
            throw new IllegalArgumentException("mode none has no tap and every other mode has one");
        }
    }

    public boolean hasTap() {
        return tapName != null;
    }
}
