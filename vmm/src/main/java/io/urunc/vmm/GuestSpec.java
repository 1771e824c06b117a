package io.urunc.vmm;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the guest should run: the unikernel type turns it into a kernel command line. */
public record GuestSpec(List<String> args, Map<String, String> env, Optional<GuestNetwork> network, RootKind root,
                        String unikernelVersion /* nullable */) {
    public GuestSpec {
        args = args == null ? List.of() : List.copyOf(args);
        env = env == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(env));
        network = network == null ? Optional.empty() : network;
        root = root == null ? RootKind.NONE : root;
    }
}
