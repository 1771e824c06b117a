package io.urunc.image;

import java.util.Map;
import java.util.Optional;

/**
 * How to boot a unikernel container, decoded from its image metadata. Paths ({@code binary}, {@code initrd},
 * {@code block}) are as the image gives them, relative to the container rootfs: resolve them with
 * {@code io.urunc.storage.RootfsPaths}. {@code sources} maps each key that was found to where its value came
 * from ("OCI spec annotation", "image manifest annotation", "container label", "/urunc.json"), for error messages.
 */
public record UnikernelMetadata(
        String unikernelType,
        String hypervisor,
        String binary,
        Optional<String> cmdline,
        Optional<String> initrd,
        Optional<String> block,
        Optional<String> blockMountPoint,
        Optional<String> unikernelVersion,
        boolean mountRootfs,
        Optional<String> ports,
        Map<String, String> sources) {

    public UnikernelMetadata {
        sources = Map.copyOf(sources);
    }

    /** Without declared ports. */
    public UnikernelMetadata(String unikernelType, String hypervisor, String binary, Optional<String> cmdline,
                             Optional<String> initrd, Optional<String> block, Optional<String> blockMountPoint,
                             Optional<String> unikernelVersion, boolean mountRootfs, Map<String, String> sources) {
        this(unikernelType, hypervisor, binary, cmdline, initrd, block, blockMountPoint, unikernelVersion, mountRootfs,
                Optional.empty(), sources);
    }

    /** "com.urunc.unikernel.binary (from OCI spec annotation)": a key with its source, for error messages. */
    public String describe(String key) {
        String source = sources.get(key);
        return source == null ? key : key + " (from " + source + ")";
    }
}
