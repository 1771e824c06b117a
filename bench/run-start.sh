#!/usr/bin/env bash
# Whole-process timings through private containerds, in one run, on both stacks (Debian 12's containerd 1.6 and
# containerd 2.1 from scripts/forky-stack.sh):
#   warm: `ctr run --rm` of the tiny unikernel through urunc (QEMU/TCG, daemon running) vs `ctr run --rm` of
#         /bin/true through runc; cold: the same, each in a fresh containerd namespace (urunc then starts its
#         daemon's JVM); and, on 1.6, the memory of the shim processes with N tasks running.
# Needs root and a built tree (./mvnw -DskipTests install; guests/build.sh; guests/build-images.sh).
# Usage: bench/run-start.sh [runs] [tasks] [cold runs]   (defaults 15, 5 and 3)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}; TASKS=${2:-5}; COLD=${3:-3}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
FORKY=${FORKY_ROOT:-/opt/urunc-forky}/usr/bin
D=$(mktemp -d /tmp/ubench.XXXX)
CPIDS=()
cleanup() {
    for dir in "$D"/*/; do
        [ -S "$dir/c.sock" ] || continue
        local c="${dir%/}/ctr.sh"
        for ns in $("$c" namespaces ls -q 2>/dev/null); do
            for t in $("$c" -n "$ns" tasks ls -q 2>/dev/null); do "$c" -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
            sleep 0.5
            for t in $("$c" -n "$ns" tasks ls -q 2>/dev/null); do "$c" -n "$ns" tasks delete -f "$t" >/dev/null 2>&1 || true; done
            for k in $("$c" -n "$ns" containers ls -q 2>/dev/null); do "$c" -n "$ns" containers delete "$k" >/dev/null 2>&1 || true; done
        done
    done
    for p in "${CPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    pkill -f "$D" 2>/dev/null || true
    grep -o " $D[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
mkdir -p $D/bin $D/rootfs/bin
sed -e "s#@URUNC_HOME@#$PWD/shim/target/dist#" -e "s#@URUNC_JAVA@#$JAVA#" shim/target/dist/bin/containerd-shim-urunc-v2 > $D/bin/containerd-shim-urunc-v2
chmod +x $D/bin/containerd-shim-urunc-v2
cp /bin/busybox $D/rootfs/bin/ && for a in true sleep sh; do ln -s busybox $D/rootfs/bin/$a; done

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2fx", a/b}'; }
elapsed() { local t0; t0=$(ms); "$@" >/dev/null; echo $(( ($(ms) - t0) / 1000000 )); }

# start_containerd NAME BINDIR CONFIG_VERSION: a private containerd; $S/ctr.sh is its ctr
start_containerd() {
    local name=$1 bindir=$2 version=$3 pathprefix=
    S=$D/$name; mkdir -p $S
    [ "$bindir" = /usr/bin ] || pathprefix=$bindir:
    printf '[shim]\nstate_dir = "%s/u"\nidle_exit_seconds = 30\n[monitors.qemu]\naccelerator = "tcg"\ndefault_memory_mb = 64\n' $S > $S/urunc.toml
    printf 'version = %s\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
        $version $S $S $S $S > $S/config.toml
    PATH=$D/bin:$pathprefix$PATH URUNC_CONFIG_FILE=$S/urunc.toml $bindir/containerd --config $S/config.toml >$S/containerd.log 2>&1 &
    CPIDS+=($!)
    printf '#!/bin/sh\nexec %s/ctr --address %s/c.sock "$@"\n' $bindir $S > $S/ctr.sh; chmod +x $S/ctr.sh
    for _ in $(seq 100); do $S/ctr.sh version >/dev/null 2>&1 && break; sleep 0.1; done
    $S/ctr.sh version >/dev/null
}

urunc_run() { $C -n "$1" run --rm --runtime io.containerd.urunc.v2 urunc.test/tiny:latest "$2" exit=0; }
runc_run() { $C -n "$1" run --rm --runtime io.containerd.runc.v2 --rootfs $D/rootfs "$2" /bin/true; }

# bench_starts NAME: fills WARM_U WARM_R COLD_U COLD_R (medians, ms)
bench_starts() {
    local name=$1 i
    C=$S/ctr.sh
    $C -n default images import guests/out/images/tiny.tar >/dev/null
    for i in $(seq $COLD); do
        $C -n cold$i images import guests/out/images/tiny.tar >/dev/null
        elapsed urunc_run cold$i cu$i >> $S/cold-urunc.ms
        elapsed runc_run cold$i cr$i >> $S/cold-runc.ms
    done
    urunc_run default warm >/dev/null; runc_run default warm2 >/dev/null
    for i in $(seq $RUNS); do
        elapsed urunc_run default u$i >> $S/urunc.ms
        elapsed runc_run default r$i >> $S/runc.ms
    done
    WARM_U=$(median < $S/urunc.ms); WARM_R=$(median < $S/runc.ms)
    COLD_U=$(median < $S/cold-urunc.ms); COLD_R=$(median < $S/cold-runc.ms)
}

start_containerd 1.6 /usr/bin 2
bench_starts 1.6
W16=($WARM_U $WARM_R); C16=($COLD_U $COLD_R)

# memory on 1.6: TASKS long-running tasks of each kind, then the shims' RSS and PSS
for i in $(seq $TASKS); do
    $C run -d --runtime io.containerd.urunc.v2 urunc.test/tiny:latest mu$i run >/dev/null
    $C run -d --runtime io.containerd.runc.v2 --rootfs $D/rootfs mr$i /bin/sleep 1000 >/dev/null
done
sleep 2
kb() { awk -v k="$1" '$1==k":" {s+=$2} END {print s+0}' "$2" 2>/dev/null; }
sum_mem() { local key=$1; shift; local s=0; for p in "$@"; do s=$(( s + $(kb $key /proc/$p/smaps_rollup) )); done; echo $s; }
upids=$(pgrep -f "io.urunc.shim.Main -namespace default -address $S/c.sock .* daemon" || true)
rpids=$(pgrep -f "containerd-shim-runc-v2 -namespace default -id mr" || true)
[ -n "$rpids" ] || rpids=$(for p in $(pgrep -f containerd-shim-runc-v2); do grep -q "$D" /proc/$p/environ 2>/dev/null && echo $p; done)
urss=$(sum_mem Rss $upids); upss=$(sum_mem Pss $upids)
rrss=$(sum_mem Rss $rpids); rpss=$(sum_mem Pss $rpids)

if [ -x $FORKY/containerd ]; then
    start_containerd 2.1 $FORKY 3
    bench_starts 2.1
    W21=($WARM_U $WARM_R); C21=($COLD_U $COLD_R)
else
    echo "containerd 2.1 not found in $FORKY: run scripts/forky-stack.sh" >&2
    W21=(0 1); C21=(0 1)
fi

printf '\n%-56s %10s %10s %8s\n' "ctr run --rm (median; warm of $RUNS, cold of $COLD)" urunc runc ratio
for row in "warm, containerd 1.6|${W16[0]}|${W16[1]}" "warm, containerd 2.1|${W21[0]}|${W21[1]}" \
           "cold (new namespace, daemon JVM start), containerd 1.6|${C16[0]}|${C16[1]}" \
           "cold (new namespace, daemon JVM start), containerd 2.1|${C21[0]}|${C21[1]}"; do
    IFS='|' read -r label u r <<< "$row"
    printf '%-56s %8s ms %8s ms %8s\n' "$label" "$u" "$r" "$(ratio "$u" "$r")"
done
printf '%-56s %8s\n' "warm ratio 2.1 / warm ratio 1.6" \
    "$(awk -v a=${W21[0]} -v b=${W21[1]} -v c=${W16[0]} -v d=${W16[1]} 'BEGIN{printf "%.2f", (a/b)/(c/d)}')"
printf '%-56s %7s KiB %7s KiB %8s\n' "shim RSS with $TASKS running tasks (1.6)" "$urss" "$rrss" "$(ratio $urss $rrss)"
printf '%-56s %7s KiB %7s KiB %8s\n' "shim PSS with $TASKS running tasks (1.6)" "$upss" "$rpss" "$(ratio $upss $rpss)"
echo "(urunc daemons: $(echo $upids | wc -w); runc shims: $(echo $rpids | wc -w); QEMU memory is the guest's and not counted)"
