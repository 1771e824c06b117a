package io.urunc.image;

import io.urunc.storage.RootfsPathException;
import io.urunc.storage.RootfsPaths;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds a container's unikernel metadata. Each key is looked up in this order, the first source holding it
 * wins: OCI spec annotations, image manifest annotations, container labels, image config labels (all three
 * from containerd, when a {@link ContainerdMetadataSource} is given), {@code /urunc.json} in the rootfs. Values are decoded by the
 * rules of {@link ValueDecoder}. {@code unikernelVersion} is also read under its bima alias
 * {@code com.urunc.unikernel.version}, {@code mountRootfs} under urunc 0.5's {@code useDMBlock}.
 * The binary, initrd and block paths must name regular files inside the rootfs.
 */
public final class MetadataResolver {
    private static final List<String> KEYS = List.of(Annotations.UNIKERNEL_TYPE, Annotations.HYPERVISOR,
            Annotations.BINARY, Annotations.CMDLINE, Annotations.INITRD, Annotations.BLOCK,
            Annotations.BLOCK_MOUNT_POINT, Annotations.UNIKERNEL_VERSION, Annotations.VERSION_ALIAS,
            Annotations.MOUNT_ROOTFS, Annotations.USE_DM_BLOCK, Annotations.PORTS);

    private final ContainerdMetadataSource containerd;

    /** {@code containerd} may be null: then only the spec and urunc.json are consulted. */
    public MetadataResolver(ContainerdMetadataSource containerd) {
        this.containerd = containerd;
    }

    /**
     * The unikernel metadata, or empty when no source has any {@code com.urunc.unikernel.*} key (pause and
     * sidecar containers: hand those to runc).
     */
    public Optional<UnikernelMetadata> resolve(Map<String, String> specAnnotations, Path rootfs, String namespace,
                                               String containerId) throws InvalidMetadataException {
        return resolve(specAnnotations, rootfs, containerd == null ? null : fromContainerd(namespace, containerId));
    }

    /**
     * As {@link #resolve(Map, Path, String, String)}, with containerd's part read by {@link #prefetch} meanwhile; the
     * rest (urunc.json) read under one of the prefetch's permits, taken once that read is done (never both at once).
     */
    public Optional<UnikernelMetadata> resolve(Map<String, String> specAnnotations, Path rootfs, Prefetch containerdRead)
            throws InvalidMetadataException, InterruptedException {
        ContainerdMetadataSource.Everything all = containerdRead.await();
        containerdRead.reads.acquire();
        try {
            return resolve(specAnnotations, rootfs, all);
        } finally {
            containerdRead.reads.release();
        }
    }

    /**
     * Starts reading containerd's part (labels, manifest, config) on a virtual thread of its own, with one of
     * {@code reads}' permits held while it reads: a Create does its other setup meanwhile.
     */
    public Prefetch prefetch(String namespace, String containerId, java.util.concurrent.Semaphore reads) {
        if (containerd == null) return new Prefetch(java.util.concurrent.CompletableFuture.completedFuture(null), reads);
        java.util.concurrent.CompletableFuture<ContainerdMetadataSource.Everything> read = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().name("metadata " + namespace + "/" + containerId).start(() -> {
            try {
                reads.acquire();
                try {
                    read.complete(fromContainerd(namespace, containerId));
                } finally {
                    reads.release();
                }
            } catch (Throwable e) {
                read.completeExceptionally(e);
            }
        });
        return new Prefetch(read, reads);
    }

    /** containerd's metadata of one container, being read. */
    public static final class Prefetch {
        private final java.util.concurrent.CompletableFuture<ContainerdMetadataSource.Everything> read;
        private final java.util.concurrent.Semaphore reads;

        private Prefetch(java.util.concurrent.CompletableFuture<ContainerdMetadataSource.Everything> read,
                         java.util.concurrent.Semaphore reads) {
            this.read = read;
            this.reads = reads;
        }

        /** What was read (null without a containerd to ask); its failure as the resolver reports it. */
        ContainerdMetadataSource.Everything await() throws InvalidMetadataException, InterruptedException {
            try {
                return read.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof InvalidMetadataException bad) throw bad;
                if (e.getCause() instanceof RuntimeException r) throw r;
                if (e.getCause() instanceof Error r) throw r;
                throw new InvalidMetadataException("cannot read the labels and image metadata from containerd: "
                        + e.getCause(), e.getCause());
            }
        }
    }

    private Optional<UnikernelMetadata> resolve(Map<String, String> specAnnotations, Path rootfs,
                                                ContainerdMetadataSource.Everything all) throws InvalidMetadataException {
        Map<MetadataSource, Map<String, String>> raw = new EnumMap<>(MetadataSource.class);
        raw.put(MetadataSource.SPEC, onlyUrunc(specAnnotations));
        if (all != null) {
            raw.put(MetadataSource.MANIFEST, onlyUrunc(all.manifestAnnotations()));
            raw.put(MetadataSource.LABEL, onlyUrunc(all.containerLabels()));
            raw.put(MetadataSource.IMAGE_CONFIG, onlyUrunc(all.configLabels()));
        }
        raw.put(MetadataSource.URUNC_JSON, UruncJson.read(rootfs));
        if (raw.values().stream().allMatch(Map::isEmpty)) return Optional.empty();

        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> sources = new LinkedHashMap<>();
        for (String key : KEYS) {
            for (var e : raw.entrySet()) {
                String v = e.getValue().get(key);
                if (v == null) continue;
                try {
                    values.put(key, ValueDecoder.decode(v, e.getKey()));
                } catch (IllegalArgumentException bad) {
                    throw new InvalidMetadataException(key + " (from " + e.getKey().description + "): " + bad.getMessage());
                }
                sources.put(key, e.getKey().description);
                break;
            }
        }
        for (String key : Annotations.REQUIRED) {
            if (values.getOrDefault(key, "").isBlank()) {
                throw new InvalidMetadataException(key + " is missing: the container has unikernel metadata ("
                        + found(raw) + ") but no value for this required key");
            }
        }
        UnikernelMetadata md = new UnikernelMetadata(
                values.get(Annotations.UNIKERNEL_TYPE).strip(),
                values.get(Annotations.HYPERVISOR).strip(),
                values.get(Annotations.BINARY).strip(),
                nonBlank(values.get(Annotations.CMDLINE)),
                nonBlank(values.get(Annotations.INITRD)),
                nonBlank(values.get(Annotations.BLOCK)),
                nonBlank(values.get(Annotations.BLOCK_MOUNT_POINT)),
                nonBlank(values.getOrDefault(Annotations.UNIKERNEL_VERSION, values.get(Annotations.VERSION_ALIAS))),
                mountRootfs(values, sources),
                nonBlank(values.get(Annotations.PORTS)),
                sources);
        requireFile(rootfs, md, Annotations.BINARY, Optional.of(md.binary()));
        requireFile(rootfs, md, Annotations.INITRD, md.initrd());
        requireFile(rootfs, md, Annotations.BLOCK, md.block());
        return Optional.of(md);
    }

    /**
     * The application's argument list for the guest, as urunc derives it:
     * <ul>
     *   <li>urunc 0.6 and later pass the spec's {@code process.args} (the image config's Entrypoint+Cmd, or
     *       what the user gave after the image name) to the guest, argv[0] included: Linux guests take it as
     *       the init, the other types join the list with spaces.</li>
     *   <li>urunc 0.5 used the {@code cmdline} annotation only. bima writes the binary path as the image's
     *       Cmd and the real arguments into {@code cmdline}; so when {@code process.args} is empty, or is
     *       exactly that default (a single element equal to the {@code binary} value), and a {@code cmdline}
     *       annotation exists, the annotation wins, split on whitespace (no shell quoting).</li>
     * </ul>
     * Otherwise {@code process.args} is returned unchanged (possibly empty).
     */
    public static List<String> appArgs(UnikernelMetadata md, List<String> processArgs) {
        List<String> args = processArgs == null ? List.of() : List.copyOf(processArgs);
        boolean bimaDefault = args.size() == 1 && samePath(args.getFirst(), md.binary());
        if ((args.isEmpty() || bimaDefault) && md.cmdline().isPresent()) {
            return splitCmdline(md.cmdline().get());
        }
        return args;
    }

    static List<String> splitCmdline(String cmdline) {
        String s = cmdline.strip();
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\\s+"));
    }

    private static boolean samePath(String a, String b) {
        return strip(a).equals(strip(b));
    }

    private static String strip(String p) {
        String s = p.strip();
        while (s.startsWith("/")) s = s.substring(1);
        return s;
    }

    private ContainerdMetadataSource.Everything fromContainerd(String namespace, String containerId)
            throws InvalidMetadataException {
        try {
            return containerd.everything(namespace, containerId);
        } catch (IOException e) {
            throw new InvalidMetadataException("cannot read the labels and image metadata of container "
                    + namespace + "/" + containerId + " from containerd: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> onlyUrunc(Map<String, String> m) {
        if (m == null || m.isEmpty()) return Map.of();
        Map<String, String> out = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith(Annotations.PREFIX) && v != null) out.put(k, v);
        });
        return out;
    }

    private static String found(Map<MetadataSource, Map<String, String>> raw) {
        List<String> parts = new ArrayList<>();
        raw.forEach((src, m) -> {
            if (!m.isEmpty()) parts.add(String.join(", ", m.keySet()) + " in " + src.description + "s");
        });
        return String.join("; ", parts);
    }

    private static Optional<String> nonBlank(String v) {
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
    }

    private static boolean mountRootfs(Map<String, String> values, Map<String, String> sources)
            throws InvalidMetadataException {
        String key = values.containsKey(Annotations.MOUNT_ROOTFS) ? Annotations.MOUNT_ROOTFS : Annotations.USE_DM_BLOCK;
        String v = values.get(key);
        if (v == null || v.isBlank()) return false;
        // the spellings Go's strconv.ParseBool accepts, as urunc parses this value with it
        return switch (v.strip()) {
            case "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw new InvalidMetadataException(key + " (from " + sources.get(key)
                    + "): expected a boolean (true/false), got \"" + v + "\"");
        };
    }

    private static void requireFile(Path rootfs, UnikernelMetadata md, String key, Optional<String> path)
            throws InvalidMetadataException {
        if (path.isEmpty()) return;
        try {
            RootfsPaths.resolveRegularFile(rootfs, path.get());
        } catch (RootfsPathException e) {
            throw new InvalidMetadataException(md.describe(key) + ": " + e.getMessage(), e);
        }
    }
}
