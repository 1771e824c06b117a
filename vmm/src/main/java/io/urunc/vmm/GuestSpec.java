package io.urunc.vmm;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the guest should run: the unikernel type turns it into a kernel command line. {@code mounts} are the file
 * systems (volumes, a block image) it mounts besides its root.
 */
public record GuestSpec(List<String> args, Map<String, String> env, Optional<GuestNetwork> network, RootKind root,
                        String unikernelVersion /* nullable */, List<GuestMount> mounts) {
    public GuestSpec {
        args = args == null ? List.of() : List.copyOf(args);
        env = env == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(env));
        network = network == null ? Optional.empty() : network;
        root = root == null ? RootKind.NONE : root;
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
    }

    public GuestSpec(List<String> args, Map<String, String> env, Optional<GuestNetwork> network, RootKind root,
                     String unikernelVersion) {
        this(args, env, network, root, unikernelVersion, List.of());
    }
}
