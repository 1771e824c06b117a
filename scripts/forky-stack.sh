#!/bin/bash
# The current container stack next to Debian 12's: containerd 2.1 and Docker 28 from Debian forky, unpacked
# (never installed) into $FORKY_ROOT. Their binaries need only glibc 2.34; forky's runc needs 2.38, so Debian
# 12's runc stays the one on PATH. apt runs with a private configuration: forky never reaches the system's
# sources, lists or dpkg database. Idempotent; prints the directory to put first on PATH.
# Tests find the stack at $FORKY_ROOT (default /opt/urunc-forky; -Dit.forky.root= overrides).
set -euo pipefail
FORKY_ROOT=${FORKY_ROOT:-/opt/urunc-forky}
PACKAGES=(containerd docker.io docker-cli tini-static)
BIN=$FORKY_ROOT/usr/bin
STAMP=$FORKY_ROOT/.complete

works() {
    "$BIN/containerd" --version >/dev/null 2>&1 && "$BIN/dockerd" --version >/dev/null 2>&1 \
        && "$BIN/docker" --version >/dev/null 2>&1 && "$BIN/containerd-shim-runc-v2" -v >/dev/null 2>&1 \
        && "$BIN/docker-init" --version >/dev/null 2>&1
}

if [ -e "$STAMP" ] && works; then
    echo "$BIN"
    exit 0
fi

A=${FORKY_APT:-/var/tmp/urunc-apt-forky}
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/debs"
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: forky\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    > "$A/parts/forky.sources"
APT=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$A/parts" -o Dir::State::Lists="$A/lists"
     -o Dir::Cache="$A/cache" -o Dir::State::status=/dev/null -o Dir::Etc::Preferences=/dev/null
     -o Dir::Etc::PreferencesParts="$A/parts" -o APT::Sandbox::User=root)
echo "forky-stack: fetching ${PACKAGES[*]} from Debian forky (private apt configuration in $A)" >&2
apt-get -qq "${APT[@]}" update >&2
rm -f "$A/debs/"*.deb
(cd "$A/debs" && apt-get -qq "${APT[@]}" download "${PACKAGES[@]}" >&2)

rm -rf "$FORKY_ROOT.new"
mkdir -p "$FORKY_ROOT.new"
for deb in "$A/debs/"*.deb; do dpkg-deb -x "$deb" "$FORKY_ROOT.new"; done
# forky's runc needs glibc 2.38; containerd's runc shim finds Debian 12's on PATH
rm -f "$FORKY_ROOT.new/usr/sbin/runc" "$FORKY_ROOT.new/usr/bin/runc"
# dockerd finds docker-init (tini-static: forky's dynamic tini needs glibc 2.38), docker-proxy and the runc shim
# on PATH: one directory holds them all
for f in "$FORKY_ROOT.new/usr/sbin/"*; do
    [ -e "$FORKY_ROOT.new/usr/bin/$(basename "$f")" ] || ln -s "../sbin/$(basename "$f")" "$FORKY_ROOT.new/usr/bin/"
done
rm -rf "$FORKY_ROOT"
mv "$FORKY_ROOT.new" "$FORKY_ROOT"
if ! works; then
    echo "forky-stack: the unpacked binaries in $BIN do not run on this system" >&2
    exit 1
fi
touch "$STAMP"
echo "forky-stack: $("$BIN/containerd" --version | cut -d' ' -f3), $("$BIN/dockerd" --version) in $BIN" >&2
echo "$BIN"
