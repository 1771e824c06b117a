#!/usr/bin/env bash
# What a volume costs at start, in one run on containerd 1.6: `ctr run --rm` of the Linux test guest
# (urunc.test/hello, `/init /bin/busybox true`: boot under QEMU/TCG, power-off, delete) without and with one
# directory volume (virtiofs: a virtiofsd per task, shared guest memory), against busybox `true` under runc without
# and with the same bind mount. Medians of RUNS, alternating the variants.
# Needs root and a built tree (./mvnw -DskipTests install; guests/build-images.sh).
# Usage: bench/run-volume.sh [runs]   (default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-7}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
D=$(mktemp -d /tmp/ubench-vol.XXXX)
CPID=
cleanup() {
    if [ -S "$D/c.sock" ]; then
        for t in $($C tasks ls -q 2>/dev/null); do $C tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
        sleep 0.5
        for t in $($C tasks ls -q 2>/dev/null); do $C tasks delete -f "$t" >/dev/null 2>&1 || true; done
        for k in $($C containers ls -q 2>/dev/null); do $C containers delete "$k" >/dev/null 2>&1 || true; done
    fi
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null || true
    sleep 1
    pkill -f "$D" 2>/dev/null || true
    grep -o " $D[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
mkdir -p $D/bin $D/rootfs/bin $D/vol
sed -e "s#@URUNC_HOME@#$PWD/shim/target/dist#" -e "s#@URUNC_JAVA@#$JAVA#" shim/target/dist/bin/containerd-shim-urunc-v2 > $D/bin/containerd-shim-urunc-v2
chmod +x $D/bin/containerd-shim-urunc-v2
cp /bin/busybox $D/rootfs/bin/ && ln -s busybox $D/rootfs/bin/true
printf '[shim]\nstate_dir = "%s/u"\nidle_exit_seconds = 30\n[monitors.qemu]\naccelerator = "tcg"\ndefault_memory_mb = 128\n' $D > $D/urunc.toml
printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
    $D $D $D $D > $D/config.toml
PATH=$D/bin:$PATH URUNC_CONFIG_FILE=$D/urunc.toml containerd --config $D/config.toml >$D/containerd.log 2>&1 &
CPID=$!
C="ctr --address $D/c.sock"
for _ in $(seq 100); do $C version >/dev/null 2>&1 && break; sleep 0.1; done
$C images import guests/out/images/hello.tar >/dev/null

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
elapsed() { local t0; t0=$(ms); "$@" >/dev/null; echo $(( ($(ms) - t0) / 1000000 )); }
VOL="type=bind,src=$D/vol,dst=/data,options=rbind:rw"
urunc() { $C run --rm --runtime io.containerd.urunc.v2 "${@:2}" urunc.test/hello:latest "$1" /init /bin/busybox true; }
runc() { $C run --rm --runtime io.containerd.runc.v2 "${@:2}" --rootfs $D/rootfs "$1" /bin/true; }

urunc warm >/dev/null; urunc warmv --mount "$VOL" >/dev/null; runc warmr >/dev/null
for i in $(seq $RUNS); do
    elapsed urunc u$i >> $D/u.ms
    elapsed urunc uv$i --mount "$VOL" >> $D/uv.ms
    elapsed runc r$i >> $D/r.ms
    elapsed runc rv$i --mount "$VOL" >> $D/rv.ms
done
U=$(median < $D/u.ms); UV=$(median < $D/uv.ms); R=$(median < $D/r.ms); RV=$(median < $D/rv.ms)
printf '\n%-44s %10s %10s %10s\n' "ctr run --rm, containerd 1.6 (median of $RUNS)" "no volume" "1 volume" "added"
printf '%-44s %7s ms %7s ms %7s ms\n' "urunc: Linux guest on QEMU/TCG (virtiofs)" "$U" "$UV" "$(( ${UV%.*} - ${U%.*} ))"
printf '%-44s %7s ms %7s ms %7s ms\n' "runc: busybox true (bind mount)" "$R" "$RV" "$(( ${RV%.*} - ${R%.*} ))"
