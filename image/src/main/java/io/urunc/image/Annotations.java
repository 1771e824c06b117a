package io.urunc.image;

import java.util.List;

/** The unikernel metadata keys of the urunc convention (spec annotations, image labels, /urunc.json). */
public final class Annotations {
    public static final String PREFIX = "com.urunc.unikernel.";
    public static final String UNIKERNEL_TYPE = PREFIX + "unikernelType";
    public static final String HYPERVISOR = PREFIX + "hypervisor";
    public static final String BINARY = PREFIX + "binary";
    public static final String CMDLINE = PREFIX + "cmdline";
    public static final String UNIKERNEL_VERSION = PREFIX + "unikernelVersion";
    public static final String INITRD = PREFIX + "initrd";
    public static final String BLOCK = PREFIX + "block";
    public static final String BLOCK_MOUNT_POINT = PREFIX + "blkMntPoint";
    public static final String MOUNT_ROOTFS = PREFIX + "mountRootfs";
    /**
     * This shim's own key (not urunc's): the ports the guest serves, {@code 80,8080/tcp,53/udp}; in a pod the
     * pod's other containers reach them on localhost and the pod IP.
     */
    public static final String PORTS = PREFIX + "ports";
    /** The name bima's documentation uses for unikernelVersion; read as an alias. */
    public static final String VERSION_ALIAS = PREFIX + "version";
    /** urunc 0.5's name for what 0.7 calls mountRootfs. */
    public static final String USE_DM_BLOCK = PREFIX + "useDMBlock";

    /** Keys an image must carry to be booted as a unikernel. */
    public static final List<String> REQUIRED = List.of(UNIKERNEL_TYPE, HYPERVISOR, BINARY);

    /** The file at the rootfs root holding the same keys, for tools that drop image annotations. */
    public static final String URUNC_JSON = "urunc.json";

    private Annotations() {}
}
