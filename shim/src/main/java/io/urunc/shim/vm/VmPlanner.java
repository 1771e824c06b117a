package io.urunc.shim.vm;

import io.urunc.image.MetadataResolver;
import io.urunc.image.UnikernelMetadata;
import io.urunc.network.NetworkAttachment;
import io.urunc.shim.bundle.Bundle;
import io.urunc.shim.config.MonitorConfig;
import io.urunc.shim.config.ShimConfig;
import io.urunc.storage.ImageFiles;
import io.urunc.storage.MountedRootfs;
import io.urunc.storage.RootfsImage;
import io.urunc.storage.RootfsPaths;
import io.urunc.storage.Volumes;
import io.urunc.vmm.BackendProcess;
import io.urunc.vmm.BlockDevice;
import io.urunc.vmm.GuestMount;
import io.urunc.vmm.SharedDirectory;
import io.urunc.ttrpc.TtrpcException;
import io.urunc.vmm.Accelerator;
import io.urunc.vmm.AcceleratorDetector;
import io.urunc.vmm.AcceleratorUnavailableException;
import io.urunc.vmm.GuestNetwork;
import io.urunc.vmm.GuestSpec;
import io.urunc.vmm.Hypervisor;
import io.urunc.vmm.Hypervisors;
import io.urunc.vmm.LaunchPlan;
import io.urunc.vmm.NetAttachment;
import io.urunc.vmm.RootKind;
import io.urunc.vmm.UnikernelType;
import io.urunc.vmm.UnikernelTypes;
import io.urunc.vmm.VmConfig;
import io.urunc.vmm.VmResources;
import io.urunc.vmm.VmmException;
import io.urunc.vmm.VmmUser;

import java.lang.System.Logger.Level;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * From an image's unikernel metadata to the VMM's launch plan. {@link #resolve} checks everything that can be
 * wrong with the image (hypervisor, type, kernel and initrd inside the rootfs, the VMM installed) before the
 * shim touches the network; {@link #plan} then builds the command line with the network the VM got.
 */
public final class VmPlanner {
    private static final System.Logger LOG = System.getLogger(VmPlanner.class.getName());
    /**
     * What the image asks for, checked; kernel and initrd are where they are inside {@code rootfs}, which
     * {@code mounted} says how the shim mounted (a block-backed one can become the guest's root disk).
     */
    public record Target(UnikernelMetadata metadata, Hypervisor hypervisor, UnikernelType type, MonitorConfig monitor,
                         Path binary, Path rootfs, Path kernel, Optional<Path> initrd, Optional<Path> block,
                         MountedRootfs mounted) {}

    /** Fixed names, in the task's run dir, of the VMM's private copies of the image's files. */
    static final String KERNEL_COPY = "kernel", INITRD_COPY = "initrd";

    private final ShimConfig config;
    private final Map<String, Accelerator> accelerators = new ConcurrentHashMap<>();

    public VmPlanner(ShimConfig config) {
        this.config = config;
    }

    public Target resolve(UnikernelMetadata md, Path rootfs) throws TtrpcException {
        return resolve(md, MountedRootfs.unmounted(rootfs));
    }

    public Target resolve(UnikernelMetadata md, MountedRootfs mounted) throws TtrpcException {
        Path rootfs = mounted.path();
        Hypervisor hypervisor = hypervisor(md);
        UnikernelType type = unikernelType(md, hypervisor);
        MonitorConfig monitor = config.monitor(hypervisor.name());
        Path binary = hypervisorBinary(hypervisor, monitor);
        Path kernel = insideRootfs(rootfs, md.binary(), "com.urunc.unikernel.binary");
        Optional<Path> initrd = md.initrd().isPresent()
                ? Optional.of(insideRootfs(rootfs, md.initrd().get(), "com.urunc.unikernel.initrd"))
                : Optional.empty();
        Optional<Path> block = md.block().isPresent()
                ? Optional.of(insideRootfs(rootfs, md.block().get(), "com.urunc.unikernel.block"))
                : Optional.empty();
        if (md.blockMountPoint().isPresent() && !md.blockMountPoint().get().startsWith("/"))
            throw TtrpcException.invalidArgument("com.urunc.unikernel.blkMntPoint: '" + md.blockMountPoint().get()
                    + "' is not an absolute path in the guest");
        return new Target(md, hypervisor, type, monitor, binary, rootfs, kernel, initrd, block, mounted);
    }

    /**
     * The launch plan, with the guest held until Start where the hypervisor can (QEMU -S). The VMM gets private copies of the kernel and initrd
     * in {@code runDir} ({@link ImageFiles}), never a path into the image; the block image it gets open, on a
     * descriptor, which {@code held} takes to close when the task goes.
     */
    public LaunchPlan plan(String id, Target t, Bundle bundle, Optional<NetworkAttachment> network, Path runDir,
                           java.util.function.Consumer<AutoCloseable> held) throws TtrpcException {
        RootfsForm rootfsForm = rootfsForm(id, t);
        // planned again at Start (docker), a rootfs already given to the guest left its boot files copied out
        boolean givenToGuest = rootfsForm == RootfsForm.SNAPSHOT_IMAGE && !t.mounted().isMounted();
        Path kernel = givenToGuest ? runDir.resolve(KERNEL_COPY)
                : copyOut(t.rootfs(), t.kernel(), t.metadata().binary(), runDir.resolve(KERNEL_COPY), "com.urunc.unikernel.binary");
        Optional<Path> initrd = Optional.empty();
        if (t.initrd().isPresent())
            initrd = Optional.of(givenToGuest ? runDir.resolve(INITRD_COPY)
                    : copyOut(t.rootfs(), t.initrd().get(), t.metadata().initrd().orElseThrow(), runDir.resolve(INITRD_COPY),
                    "com.urunc.unikernel.initrd"));
        Optional<GuestNetwork> guestNet = network.flatMap(NetworkAttachment::guest)
                .map(g -> new GuestNetwork(g.ipv4(), g.prefixLength(), g.gateway(), g.mac(), g.dns()));
        Optional<NetAttachment> nic = network.filter(NetworkAttachment::hasTap)
                .flatMap(a -> a.guest().map(g -> new NetAttachment(a.tapName(), g.mac())));
        List<String> args = MetadataResolver.appArgs(t.metadata(), bundle.args());
        Shares shares = shares(id, t, bundle, runDir, rootfsForm == RootfsForm.VIRTIOFS);
        Disk disk = disk(id, t, rootfsForm, held);
        List<BlockDevice> blocks = new ArrayList<>();
        if (rootfsForm == RootfsForm.EXT4_IMAGE) blocks.add(rootfsImage(id, t, runDir)); // first: /dev/vda
        disk.device().ifPresent(blocks::add);
        Map<Integer, LaunchPlan.InheritedFile> inherited = new java.util.HashMap<>(disk.inherited());
        if (rootfsForm == RootfsForm.SNAPSHOT_IMAGE) blocks.addFirst(snapshotImage(id, t, inherited, held));
        List<GuestMount> mounts = new ArrayList<>(disk.mount().stream().toList());
        mounts.addAll(deviceVolumes(id, shares.devices(), blocks, inherited, held));
        mounts.addAll(shares.mounts());
        RootKind root = t.initrd().isPresent() ? RootKind.INITRD
                : disk.isRoot() || rootfsForm.isDisk() ? RootKind.BLOCK
                : rootfsForm == RootfsForm.VIRTIOFS ? RootKind.VIRTIOFS : RootKind.NONE;
        // booted from an initrd, the guest's init mounts the container rootfs and switches into it
        if (root == RootKind.INITRD && rootfsForm == RootfsForm.VIRTIOFS)
            mounts.addFirst(new GuestMount(GuestMount.Kind.VIRTIOFS, ROOTFS_TAG, "/", false));
        if (root == RootKind.INITRD && rootfsForm.isDisk())
            mounts.addFirst(new GuestMount(GuestMount.Kind.BLOCK, ROOTFS_BLOCK_ID, "/", false));
        GuestSpec guest = new GuestSpec(args, guestEnv(bundle), guestNet, root, t.metadata().unikernelVersion().orElse(null),
                mounts);
        Accelerator accelerator = accelerator(t.hypervisor(), t.monitor(), t.binary());
        String cmdline;
        List<String> extra;
        try {
            cmdline = t.type().kernelCmdline(guest, t.hypervisor().name(), accelerator);
            extra = t.type().extraVmmArgs(t.hypervisor().name(), guest);
        } catch (RuntimeException e) {
            throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage());
        }
        VmConfig vm = new VmConfig(id, t.binary(), kernel, initrd, cmdline, resources(bundle, t.monitor()),
                accelerator, nic, blocks, extra, runDir, t.monitor().seccomp()).withHints(t.type().deviceHints())
                .withSharedDirs(shares.dirs());
        if (t.monitor().dropPrivileges()) vm = vm.withRunAs(VmmUser.forTask(t.monitor().vmmIdBase(), runDir.getFileName().toString()));
        try {
            List<Path> copies = new ArrayList<>(List.of(kernel));
            initrd.ifPresent(copies::add);
            return t.hypervisor().holdGuest(t.hypervisor().plan(vm)).withBootFiles(copies).withBackends(shares.backends())
                    .withInheritedFiles(inherited);
        } catch (VmmException e) {
            throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage());
        }
    }

    /** The image's block file for the guest, where it mounts it, and the descriptor the VMM gets it on. */
    private record Disk(Optional<BlockDevice> device, Optional<GuestMount> mount, boolean isRoot,
                        Map<Integer, LaunchPlan.InheritedFile> inherited) {}

    /** The descriptor numbers the block image has in the VMM: this one read-write, the next read-only. */
    static final int BLOCK_FD = 3;
    static final String BLOCK_ID = "blk0";

    /**
     * {@code com.urunc.unikernel.block}: the image's file itself, opened read-write inside the rootfs (so writes land in
     * the container's snapshot, which copies it up) and handed to the VMM on descriptors {@value #BLOCK_FD} (read-write)
     * and the next (read-only).
     * {@code blkMntPoint} {@code /} makes it the guest's root unless an initrd is (urunc's order); another mount point
     * is mounted there by types that mount file systems; without one the disk is only attached (Solo5 types name
     * their own devices).
     */
    private Disk disk(String id, Target t, RootfsForm rootfsForm, java.util.function.Consumer<AutoCloseable> held) throws TtrpcException {
        if (t.block().isEmpty()) return new Disk(Optional.empty(), Optional.empty(), false, Map.of());
        String fromImage = t.metadata().block().orElseThrow();
        if (rootfsForm == RootfsForm.SNAPSHOT_IMAGE)
            throw TtrpcException.invalidArgument("task " + id + ": com.urunc.unikernel.block: " + fromImage + " is inside the rootfs"
                    + " snapshot, which is a file system image (" + t.mounted().blockImage().orElseThrow().file() + ") the guest takes"
                    + " as its root disk with com.urunc.unikernel.mountRootfs: the host cannot keep a file of it open meanwhile"
                    + " (use a snapshotter that gives directories, e.g. overlayfs, or put the block image at /)");
        ImageFiles.OpenFile file;
        try {
            file = ImageFiles.open(t.rootfs(), t.block().get(), fromImage, true);
        } catch (IOException e) {
            throw TtrpcException.invalidArgument("com.urunc.unikernel.block: " + e.getMessage());
        }
        held.accept(file);
        // read-write, and read-only too: QEMU opens an image both ways and an fd set serves each mode from its own
        BlockDevice device = new BlockDevice(BLOCK_ID, Path.of(fromImage), false, List.of(BLOCK_FD, BLOCK_FD + 1));
        Map<Integer, LaunchPlan.InheritedFile> inherited = Map.of(BLOCK_FD, new LaunchPlan.InheritedFile(file.procPath(), true),
                BLOCK_FD + 1, new LaunchPlan.InheritedFile(file.procPath(), false));
        Optional<String> at = t.metadata().blockMountPoint();
        boolean root = at.isPresent() && at.get().equals("/") && t.initrd().isEmpty();
        Optional<GuestMount> mount = Optional.empty();
        if (at.isPresent() && !at.get().equals("/") && t.type().mounts(GuestMount.Kind.BLOCK))
            mount = Optional.of(new GuestMount(GuestMount.Kind.BLOCK, BLOCK_ID, at.get(), false));
        else if (at.isPresent() && !root)
            LOG.log(Level.INFO, "task {0}: block image {1} attached as {2} but not mounted at {3} ({4})", id, fromImage, BLOCK_ID, at.get(),
                    at.get().equals("/") ? "the initrd is the guest's root" : "type " + t.type().name() + " mounts by itself");
        return new Disk(Optional.of(device), mount, root, inherited);
    }

    /** The volumes as the guest mounts them, the VMM's shares and the virtiofsd behind each. */
    private record Shares(List<GuestMount> mounts, List<SharedDirectory> dirs, List<BackendProcess> backends, boolean rootShared,
                          List<Volumes.Volume> devices) {}

    /**
     * Volumes whose source is a block device: the device itself as a disk ({@code vdisk<N>}), inherited by the VMM on
     * the next pair of descriptors after the image's block file (read-write or read-only as the volume, then read-only),
     * mounted by the guest at the target.
     */
    private static List<GuestMount> deviceVolumes(String id, List<Volumes.Volume> devices, List<BlockDevice> blocks,
                                                  Map<Integer, LaunchPlan.InheritedFile> inherited,
                                                  java.util.function.Consumer<AutoCloseable> held) throws TtrpcException {
        List<GuestMount> mounts = new ArrayList<>();
        int fd = BLOCK_FD + 2;
        for (int i = 0; i < devices.size(); i++, fd += 2) {
            Volumes.Volume v = devices.get(i);
            ImageFiles.OpenFile file;
            try {
                file = ImageFiles.openBlockDevice(v.source(), !v.readOnly());
            } catch (IOException e) {
                throw TtrpcException.failedPrecondition("task " + id + ": volume " + v.target() + ": " + e.getMessage());
            }
            held.accept(file);
            String diskId = "vdisk" + i;
            blocks.add(new BlockDevice(diskId, v.source(), v.readOnly(), List.of(fd, fd + 1), true));
            inherited.put(fd, new LaunchPlan.InheritedFile(file.procPath(), !v.readOnly()));
            inherited.put(fd + 1, new LaunchPlan.InheritedFile(file.procPath(), false));
            mounts.add(new GuestMount(GuestMount.Kind.BLOCK, diskId, v.target(), v.readOnly()));
        }
        return mounts;
    }

    /** Volumes the kubelet adds to every container on its own (the service account token). */
    static final List<String> KUBELET_INJECTED = List.of("/var/run/secrets/kubernetes.io", "/run/secrets/kubernetes.io");

    /** urunc's tag for the container rootfs shared with the guest. */
    static final String ROOTFS_TAG = "fs0";

    /**
     * The spec's directory bind mounts, each shared over virtiofs as {@code vol<N>} from its own virtiofsd
     * ({@code <runDir>/vfs<N>.sock}). A type that cannot mount them, or a missing virtiofsd, fails the task:
     * a volume the guest silently lacks would lose what it writes.
     */
    private Shares shares(String id, Target t, Bundle bundle, Path runDir, boolean shareRoot) throws TtrpcException {
        Volumes.Selection selection;
        try {
            selection = Volumes.select(bundle.mounts());
        } catch (IOException e) {
            throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage());
        }
        if (!selection.skipped().isEmpty()) LOG.log(Level.INFO, "task {0}: bind mounts not passed to the guest: {1}", id, String.join(", ", selection.skipped()));
        List<Volumes.Volume> volumes = selection.volumes();
        if (!t.type().mounts(GuestMount.Kind.VIRTIOFS)) {
            // every Kubernetes pod gets its service account token unless told not to: not the image's to refuse
            List<Volumes.Volume> injected = volumes.stream().filter(v -> KUBELET_INJECTED.stream()
                    .anyMatch(d -> v.target().equals(d) || v.target().startsWith(d + "/"))).toList();
            if (!injected.isEmpty()) LOG.log(Level.INFO, "task {0}: type {1} mounts no file systems: {2} not passed", id, t.type().name(),
                    String.join(", ", injected.stream().map(Volumes.Volume::target).toList()));
            volumes = volumes.stream().filter(v -> !injected.contains(v)).toList();
        }
        List<Volumes.Volume> devices = volumes.stream().filter(Volumes.Volume::blockDevice).toList();
        if (volumes.isEmpty() && !shareRoot) return new Shares(List.of(), List.of(), List.of(), false, List.of());
        String targets = String.join(", ", volumes.stream().map(Volumes.Volume::target).toList()) + (shareRoot ? " the rootfs" : "");
        List<String> unmountable = volumes.stream().filter(v -> !t.type().mounts(v.blockDevice() ? GuestMount.Kind.BLOCK : GuestMount.Kind.VIRTIOFS))
                .map(Volumes.Volume::target).toList();
        if (!unmountable.isEmpty())
            throw TtrpcException.invalidArgument("task " + id + ": unikernel type " + t.type().name()
                    + " cannot mount volumes, but the container has " + String.join(", ", unmountable));
        volumes = volumes.stream().filter(v -> !v.blockDevice()).toList();
        if (volumes.isEmpty() && !shareRoot) return new Shares(List.of(), List.of(), List.of(), false, devices);
        if (!Files.isExecutable(config.virtiofsd()))
            throw TtrpcException.failedPrecondition("task " + id + ": volumes (" + targets + ") need virtiofsd, which is not at "
                    + config.virtiofsd() + " (set [extra_binaries.virtiofsd] path in the config)");
        List<GuestMount> mounts = new ArrayList<>();
        List<SharedDirectory> dirs = new ArrayList<>();
        List<BackendProcess> backends = new ArrayList<>();
        if (shareRoot) {
            Path socket = runDir.resolve("vfsroot.sock");
            Path mountPoint = runDir.resolve("vfsroot");
            try {
                Files.createDirectories(mountPoint);
            } catch (IOException e) {
                throw TtrpcException.internal("task " + id + ": cannot create " + mountPoint + ": " + e.getMessage());
            }
            dirs.add(new SharedDirectory(ROOTFS_TAG, socket));
            backends.add(virtiofsd(id, "vfsroot", new Volumes.Volume(t.rootfs(), "/", false), mountPoint, socket));
        }
        for (int i = 0; i < volumes.size(); i++) {
            Volumes.Volume v = volumes.get(i);
            String tag = "vol" + i;
            Path socket = runDir.resolve("vfs" + i + ".sock");
            Path mountPoint = runDir.resolve("vfs" + i);
            try {
                Files.createDirectories(mountPoint);
            } catch (IOException e) {
                throw TtrpcException.internal("task " + id + ": cannot create " + mountPoint + ": " + e.getMessage());
            }
            try {
                mounts.add(new GuestMount(GuestMount.Kind.VIRTIOFS, tag, v.target(), v.readOnly()));
            } catch (RuntimeException e) {
                throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage());
            }
            dirs.add(new SharedDirectory(tag, socket));
            backends.add(virtiofsd(id, "vfs" + i, v, mountPoint, socket));
        }
        return new Shares(mounts, dirs, backends, shareRoot, devices);
    }

    private BackendProcess virtiofsd(String id, String name, Volumes.Volume v, Path mountPoint, Path socket) throws TtrpcException {
        try {
            return Virtiofsd.backend(config.virtiofsd(), name, v, mountPoint, socket);
        } catch (IllegalArgumentException e) {
            throw TtrpcException.invalidArgument("task " + id + ": " + e.getMessage() + " (virtiofsd's -o options cannot carry it: use a state_dir without commas)");
        }
    }

    /** How the container rootfs reaches the guest with {@code com.urunc.unikernel.mountRootfs}. */
    enum RootfsForm {
        NONE, VIRTIOFS, EXT4_IMAGE,
        /** The snapshot is itself a file system image (containerd's blockfile snapshotter): that file is the disk. */
        SNAPSHOT_IMAGE;

        boolean isDisk() {
            return this == EXT4_IMAGE || this == SNAPSHOT_IMAGE;
        }
    }

    /** What a block-backed rootfs must be for a guest to take it as its root disk (the types that mount one mount ext4). */
    static final String SNAPSHOT_FS_TYPE = "ext4";

    static final String ROOTFS_BLOCK_ID = "rootfs";
    static final String ROOTFS_IMAGE = "rootfs.ext4";

    /**
     * {@code com.urunc.unikernel.mountRootfs}: the container rootfs becomes the guest's root, shared over virtiofs
     * where the hypervisor can share directories (QEMU, Cloud Hypervisor: urunc's choice), else as an ext4 image
     * built from it at Create (Firecracker); not when a block image of the image is the root. Where the snapshot
     * itself is an ext4 image (blockfile), that image is the guest's disk on every hypervisor, as urunc prefers a block
     * rootfs to a shared one. Types that mount no file systems ignore it, as urunc does.
     */
    static RootfsForm rootfsForm(String id, Target t) {
        if (!t.metadata().mountRootfs()) return RootfsForm.NONE;
        boolean blockRoot = t.block().isPresent() && t.metadata().blockMountPoint().filter("/"::equals).isPresent();
        if (blockRoot) return RootfsForm.NONE;
        if (!t.type().mounts(GuestMount.Kind.VIRTIOFS)) {
            LOG.log(Level.INFO, "task {0}: com.urunc.unikernel.mountRootfs ignored: type {1} mounts no file systems", id, t.type().name());
            return RootfsForm.NONE;
        }
        if (takesSnapshotAsDisk(t)) return RootfsForm.SNAPSHOT_IMAGE;
        Optional<MountedRootfs.BlockImage> image = t.mounted().blockImage();
        if (image.isPresent())
            LOG.log(Level.INFO, "task {0}: rootfs image {1} ({2}{3}) shared from its host mount instead of as the guest''s disk", id,
                    image.get().file(), image.get().fsType(), image.get().readOnly() ? ", read-only" : "");
        return t.hypervisor().sharesDirectories() ? RootfsForm.VIRTIOFS : RootfsForm.EXT4_IMAGE;
    }

    /**
     * Whether the guest takes the rootfs snapshot itself as its disk ({@link RootfsForm#SNAPSHOT_IMAGE}): then the
     * rootfs is unmounted from the host at the first plan, and a plan made again cannot copy the boot files anew.
     */
    public static boolean takesSnapshotAsDisk(Target t) {
        Optional<MountedRootfs.BlockImage> image = t.mounted().blockImage();
        boolean blockRoot = t.block().isPresent() && t.metadata().blockMountPoint().filter("/"::equals).isPresent();
        return t.metadata().mountRootfs() && !blockRoot && t.type().mounts(GuestMount.Kind.VIRTIOFS) && image.isPresent()
                && t.type().mounts(GuestMount.Kind.BLOCK) && image.get().fsType().equals(SNAPSHOT_FS_TYPE) && !image.get().readOnly();
    }

    /**
     * The snapshot's own image file as the guest's first disk ({@code rootfs}): opened read-write (a path from
     * containerd, not from the image) and inherited on descriptors {@value #BLOCK_FD} and the next like the image's
     * block file, after which the rootfs is unmounted from the host, so that only the guest has the file system
     * mounted. The kernel and initrd were copied out of it before.
     */
    private static BlockDevice snapshotImage(String id, Target t, Map<Integer, LaunchPlan.InheritedFile> inherited,
                                             java.util.function.Consumer<AutoCloseable> held) throws TtrpcException {
        Path file = t.mounted().blockImage().orElseThrow().file();
        ImageFiles.OpenFile open;
        try {
            open = ImageFiles.openHostFile(file, true, "rootfs snapshot image");
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": com.urunc.unikernel.mountRootfs: " + e.getMessage());
        }
        held.accept(open);
        try {
            if (t.mounted().isMounted()) t.mounted().unmountForGuest();
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": com.urunc.unikernel.mountRootfs: " + e.getMessage());
        }
        inherited.put(BLOCK_FD, new LaunchPlan.InheritedFile(open.procPath(), true));
        inherited.put(BLOCK_FD + 1, new LaunchPlan.InheritedFile(open.procPath(), false));
        return new BlockDevice(ROOTFS_BLOCK_ID, file, false, List.of(BLOCK_FD, BLOCK_FD + 1));
    }

    /** The ext4 image of the container rootfs in the run dir (it goes with it); writes stay in the image. */
    private static BlockDevice rootfsImage(String id, Target t, Path runDir) throws TtrpcException {
        Path image = runDir.resolve(ROOTFS_IMAGE);
        try {
            RootfsImage.build(t.rootfs(), image);
        } catch (IOException e) {
            throw TtrpcException.failedPrecondition("task " + id + ": com.urunc.unikernel.mountRootfs: " + e.getMessage());
        }
        return new BlockDevice(ROOTFS_BLOCK_ID, image, false);
    }

    private static Hypervisor hypervisor(UnikernelMetadata md) throws TtrpcException {
        try {
            return Hypervisors.byName(md.hypervisor());
        } catch (VmmException e) {
            throw TtrpcException.invalidArgument("com.urunc.unikernel.hypervisor: " + e.getMessage());
        }
    }
    private static UnikernelType unikernelType(UnikernelMetadata md, Hypervisor hv) throws TtrpcException {
        UnikernelType type;
        try {
            type = UnikernelTypes.byName(md.unikernelType());
        } catch (VmmException e) {
            throw TtrpcException.invalidArgument("com.urunc.unikernel.unikernelType: " + e.getMessage());
        }
        if (!type.hypervisors().contains(hv.name())) {
            throw TtrpcException.invalidArgument("unikernel type " + type.name() + " cannot run on hypervisor "
                    + hv.name() + " (it runs on " + String.join(", ", type.hypervisors()) + ")");
        }
        return type;
    }
    private static Path hypervisorBinary(Hypervisor hv, MonitorConfig monitor) throws TtrpcException {
        Path p = Path.of(monitor.path().orElse(hv.defaultBinary()));
        if (!p.isAbsolute()) {
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                Path candidate = Path.of(dir).resolve(p);
                if (Files.isExecutable(candidate)) return candidate;
            }
        }
        if (!Files.isExecutable(p)) {
            throw TtrpcException.failedPrecondition("hypervisor " + hv.name() + ": " + p
                    + " is not installed or not executable (set [monitors." + hv.name() + "] path in the config)");
        }
        return p;
    }
    private static Path insideRootfs(Path rootfs, String path, String key) throws TtrpcException {
        try {
            return RootfsPaths.resolveRegularFile(rootfs, path);
        } catch (IOException e) {
            throw TtrpcException.invalidArgument(key + ": " + e.getMessage());
        }
    }
    private static Path copyOut(Path rootfs, Path resolved, String pathFromImage, Path copy, String key) throws TtrpcException {
        try {
            ImageFiles.copyOut(rootfs, resolved, pathFromImage, copy);
            return copy;
        } catch (IOException e) {
            throw TtrpcException.invalidArgument(key + ": " + e.getMessage());
        }
    }
    private static VmResources resources(Bundle bundle, MonitorConfig monitor) {
        int memoryMb = bundle.memoryLimitBytes().map(b -> (int) Math.max(16, b >> 20)).orElse(monitor.defaultMemoryMb());
        int vcpus = bundle.cpus().map(c -> (int) Math.max(1, Math.ceil(c))).orElse(monitor.defaultVcpus());
        return new VmResources(memoryMb, vcpus);
    }
    private Accelerator accelerator(Hypervisor hv, MonitorConfig monitor, Path binary) throws TtrpcException {
        Accelerator requested = Accelerator.valueOf(monitor.accelerator().toUpperCase(Locale.ROOT));
        if (!hv.name().equals("qemu")) return requested == Accelerator.AUTO ? Accelerator.KVM : requested;
        try {
            return accelerators.computeIfAbsent(binary + "|" + requested,
                    k -> AcceleratorDetector.resolve(requested, binary, Optional.of(config.stateDir().resolve("kvm"))));
        } catch (AcceleratorUnavailableException e) {
            throw TtrpcException.failedPrecondition("hypervisor qemu: " + e.getMessage());
        }
    }
    /** The container's environment minus what only makes sense to a Linux process tree on the host. */
    private static Map<String, String> guestEnv(Bundle bundle) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String kv : bundle.env()) {
            int eq = kv.indexOf('=');
            if (eq <= 0) continue;
            String k = kv.substring(0, eq);
            if (k.equals("PATH") || k.equals("HOSTNAME") || k.equals("TERM") || k.equals("HOME")) continue;
            env.put(k, kv.substring(eq + 1));
        }
        return env;
    }
}
