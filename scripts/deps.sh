#!/bin/bash
# Installs what building, running and testing need (Debian 12, as root). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(containerd runc qemu-system-x86 busybox-static cpio skopeo umoci docker.io docker-registry
          iproute2 nftables procps e2fsprogs gcc libc6-dev util-linux curl)
JDK=/usr/lib/jvm/temurin-25-jdk-amd64

missing=()
for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
elif [ -z "$(ls /var/lib/apt/lists/*_Packages 2>/dev/null | head -n1)" ]; then
    # guests/build.sh uses `apt-get download` for the guest kernel: it needs package lists
    apt-get update -qq
fi
if [ ! -x "$JDK/bin/java" ]; then
    echo "deps: Temurin JDK 25 is expected at $JDK (set JAVA_HOME to another JDK 25 to override)" >&2
    [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] || exit 1
fi
# The Debian docker.io and containerd packages start their services; tests use private instances.
# containerd 2.1 + Docker 28 (Debian forky), unpacked beside Debian 12's stack: the tests run on both.
"$(dirname "$0")/forky-stack.sh" >/dev/null
