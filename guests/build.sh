#!/bin/bash
# Builds the test guests from this folder's sources and Debian packages.
#   guests/build.sh [OUTDIR]          (default: guests/out)
# Produces:
#   OUT/tiny/tiny.elf             PVH unikernel (QEMU -kernel on -M microvm and -M pc)
#   OUT/tiny/tiny-mb.elf          the same as a multiboot kernel (how Unikraft boots on QEMU): lists its modules
#   OUT/linux/vmlinuz             Debian cloud kernel (bzImage); OUT/linux/kernel-version names it
#   OUT/linux/initrd.cpio.gz      newc initramfs: /init (ours), busybox, virtio/virtiofs modules, /www
#   OUT/block/data.ext4           4 MiB ext4 image holding /app.conf (marker URUNC-BLOCK-CONF), for the block image test
#   OUT/ctx/<image>/              build contexts for guests/images/<image>/Containerfile
# Up-to-date outputs are kept; only what changed is rebuilt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mkdir -p "${1:-$HERE/out}" && cd "${1:-$HERE/out}" && pwd)"
KERNEL_FLAVOUR=cloud-amd64
# loaded by /init in this order (dependencies first), from /lib/modules/load-order
MODULES=(virtio_ring virtio virtio_mmio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
         failover net_failover virtio_net virtio_blk fuse virtiofs pvpanic pvpanic-mmio)
export SOURCE_DATE_EPOCH=0

log() { echo "guests: $*" >&2; }

# true when $1 is missing or older than any of the other arguments
stale() {
    local target=$1; shift
    [ -e "$target" ] || return 0
    local src
    for src in "$@"; do [ "$src" -nt "$target" ] && return 0; done
    return 1
}

ensure_packages() {
    local missing=()
    command -v gcc >/dev/null || missing+=(gcc)
    [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
    dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
    command -v cpio >/dev/null || missing+=(cpio)
    command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
    fi
}

build_tiny() {
    local common=("$HERE/tiny/tiny.c" "$HERE/tiny/tiny.ld")
    mkdir -p "$OUT/tiny"
    local name entry
    for name in tiny tiny-mb; do
        entry="$HERE/tiny/entry.S"
        [ "$name" = tiny-mb ] && entry="$HERE/tiny/entry-mb.S"
        stale "$OUT/tiny/$name.elf" "$entry" "${common[@]}" || continue
        log "building tiny/$name.elf"
        gcc -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
            -fno-asynchronous-unwind-tables -O2 -Wall -Wextra -nostdlib -no-pie -static \
            -Wa,--noexecstack -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
            -T "$HERE/tiny/tiny.ld" -o "$OUT/tiny/$name.elf.tmp" "$entry" "$HERE/tiny/tiny.c"
        mv "$OUT/tiny/$name.elf.tmp" "$OUT/tiny/$name.elf"
    done
}

# Downloads the current linux-image-6.1.0-*-cloud-amd64 once and unpacks it under OUT/cache.
fetch_kernel() {
    local cache="$OUT/cache"
    mkdir -p "$cache"
    local deb
    deb=$(ls "$cache"/linux-image-*-"$KERNEL_FLAVOUR"_*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        local pkg
        pkg=$(apt-cache depends "linux-image-$KERNEL_FLAVOUR" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
        if [ -z "$pkg" ]; then
            apt-get update >&2
            pkg=$(apt-cache depends "linux-image-$KERNEL_FLAVOUR" | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
        fi
        [ -n "$pkg" ] || { log "cannot resolve linux-image-$KERNEL_FLAVOUR"; exit 1; }
        log "downloading $pkg"
        (cd "$cache" && apt-get download "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
        deb=$(ls "$cache"/linux-image-*-"$KERNEL_FLAVOUR"_*.deb | head -n1)
    fi
    if stale "$cache/kernel/.unpacked" "$deb"; then
        log "unpacking $(basename "$deb")"
        rm -rf "$cache/kernel"
        dpkg -x "$deb" "$cache/kernel"
        touch "$cache/kernel/.unpacked"
    fi
    KVER=$(ls "$cache/kernel/lib/modules")
    KDIR="$cache/kernel"
}

build_linux() {
    fetch_kernel
    mkdir -p "$OUT/linux"
    if stale "$OUT/linux/vmlinuz" "$KDIR/.unpacked"; then
        cp "$KDIR/boot/vmlinuz-$KVER" "$OUT/linux/vmlinuz"
        echo "$KVER" > "$OUT/linux/kernel-version"
        log "kernel $KVER"
    fi
    if stale "$OUT/linux/init" "$HERE/init/init.c"; then
        log "building linux/init"
        gcc -static -O2 -Wall -Wextra -o "$OUT/linux/init.tmp" "$HERE/init/init.c"
        strip "$OUT/linux/init.tmp"
        mv "$OUT/linux/init.tmp" "$OUT/linux/init"
    fi
    if stale "$OUT/linux/initrd.cpio.gz" "$OUT/linux/init" "$KDIR/.unpacked" /bin/busybox "$HERE/www/index.html" "$HERE/build.sh"; then
        log "building linux/initrd.cpio.gz"
        local root="$OUT/linux/initrd.root"
        rm -rf "$root"
        mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,lib/modules,www,root}
        cp "$OUT/linux/init" "$root/init"
        cp /bin/busybox "$root/bin/busybox"
        local applet
        for applet in $(/bin/busybox --list-full); do
            [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
        done
        local m f
        for m in "${MODULES[@]}"; do
            f=$(find "$KDIR/lib/modules/$KVER/kernel" -name "$m.ko" | head -n1)
            [ -n "$f" ] || { log "module $m.ko not in kernel $KVER"; exit 1; }
            cp "$f" "$root/lib/modules/$m.ko"
            echo "$m" >> "$root/lib/modules/load-order"
        done
        cp "$HERE/www/index.html" "$root/www/index.html"
        echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
        echo "root:x:0:" > "$root/etc/group"
        find "$root" -exec touch -h -d @0 {} +
        (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | \
            cpio --quiet --reproducible -o -H newc -R 0:0) | gzip -n -9 > "$OUT/linux/initrd.cpio.gz.tmp"
        mv "$OUT/linux/initrd.cpio.gz.tmp" "$OUT/linux/initrd.cpio.gz"
        rm -rf "$root"
    fi
}

# An ext4 file system built from a directory (mkfs.ext4 -d), fixed UUID and hash seed so that it is reproducible.
build_block() {
    mkdir -p "$OUT/block"
    stale "$OUT/block/data.ext4" "$HERE/build.sh" || return 0
    log "building block/data.ext4"
    local tree="$OUT/block/tree"
    rm -rf "$tree"
    mkdir -p "$tree"
    printf 'URUNC-BLOCK-CONF=from-the-block-image\n' > "$tree/app.conf"
    find "$tree" -exec touch -h -d @0 {} +
    rm -f "$OUT/block/data.ext4.tmp"
    E2FSPROGS_FAKE_TIME=1 mkfs.ext4 -q -F -b 1024 -L urunc-data -U 6f2c1b0e-0000-4000-8000-000000000001 \
        -E root_owner=0:0,hash_seed=6f2c1b0e-0000-4000-8000-000000000002 -d "$tree" "$OUT/block/data.ext4.tmp" 4M
    mv "$OUT/block/data.ext4.tmp" "$OUT/block/data.ext4"
    rm -rf "$tree"
}

# hard link $1 as $2 unless it already is (keeps the context's mtimes for build-images.sh)
link() { [ "$1" -ef "$2" ] || ln -f "$1" "$2"; }

# Build contexts for guests/images/*/Containerfile (hard links: no copies of the kernel).
build_contexts() {
    local ctx="$OUT/ctx"
    mkdir -p "$ctx/tiny" "$ctx/hello" "$ctx/httpd" "$ctx/block" "$ctx/rootfs"
    link "$OUT/tiny/tiny.elf" "$ctx/tiny/tiny.elf"
    link "$OUT/block/data.ext4" "$ctx/block/data.ext4"
    # the rootfs image's own files (the guest switches into the container rootfs): busybox and a config file
    mkdir -p "$ctx/rootfs"
    stale "$ctx/rootfs/busybox" /bin/busybox && cp /bin/busybox "$ctx/rootfs/busybox"
    stale "$ctx/rootfs/app.conf" "$HERE/build.sh" && printf 'URUNC-ROOTFS-CONF=from-the-container-rootfs\n' > "$ctx/rootfs/app.conf"
    for image in hello httpd block rootfs; do
        link "$OUT/linux/vmlinuz" "$ctx/$image/vmlinuz"
        link "$OUT/linux/initrd.cpio.gz" "$ctx/$image/initrd.cpio.gz"
    done
}

ensure_packages
build_tiny
build_linux
build_block
build_contexts
log "ready in $OUT"
