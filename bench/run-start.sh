#!/usr/bin/env bash
# Whole-process timings through a private containerd, in one run:
#   `ctr run --rm` of the tiny unikernel through urunc (QEMU/TCG) vs `ctr run --rm` of /bin/true through runc,
#   and the memory of the shim processes with N tasks running (urunc: one daemon; runc: one shim per task).
# Needs root and a built tree (./mvnw -DskipTests install; guests/build.sh; guests/build-images.sh).
# Usage: bench/run-start.sh [runs] [tasks]   (defaults 15 and 5)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}; TASKS=${2:-5}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
D=$(mktemp -d /tmp/ubench.XXXX)
cleanup() {
    for t in $(ctr --address $D/c.sock tasks ls -q 2>/dev/null); do ctr --address $D/c.sock tasks kill -s SIGKILL $t >/dev/null 2>&1 || true; done
    sleep 1
    for t in $(ctr --address $D/c.sock tasks ls -q 2>/dev/null); do ctr --address $D/c.sock tasks delete -f $t >/dev/null 2>&1 || true; done
    for c in $(ctr --address $D/c.sock containers ls -q 2>/dev/null); do ctr --address $D/c.sock containers delete $c >/dev/null 2>&1 || true; done
    kill "$CPID" 2>/dev/null || true; sleep 1
    pkill -f "$D" 2>/dev/null || true
    grep -o " $D[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
mkdir -p $D/bin $D/rootfs/bin
sed -e "s#@URUNC_HOME@#$PWD/shim/target/dist#" -e "s#@URUNC_JAVA@#$JAVA#" shim/target/dist/bin/containerd-shim-urunc-v2 > $D/bin/containerd-shim-urunc-v2
chmod +x $D/bin/containerd-shim-urunc-v2
cp /bin/busybox $D/rootfs/bin/ && for a in true sleep sh; do ln -s busybox $D/rootfs/bin/$a; done
printf '[shim]\nstate_dir = "%s/u"\nidle_exit_seconds = 30\n[monitors.qemu]\naccelerator = "tcg"\ndefault_memory_mb = 64\n' $D > $D/urunc.toml
printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/c.sock"\n' $D $D $D > $D/config.toml
PATH=$D/bin:$PATH URUNC_CONFIG_FILE=$D/urunc.toml containerd --config $D/config.toml >$D/containerd.log 2>&1 &
CPID=$!
C="ctr --address $D/c.sock"
for _ in $(seq 100); do $C version >/dev/null 2>&1 && break; sleep 0.1; done
$C images import guests/out/images/tiny.tar >/dev/null

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# warm both paths once (the urunc daemon's JVM start is paid here, and reported separately)
t0=$(ms); $C run --rm --runtime io.containerd.urunc.v2 urunc.test/tiny:latest warm exit=0 >/dev/null; t1=$(ms)
first_urunc=$(( (t1 - t0) / 1000000 ))
$C run --rm --runtime io.containerd.runc.v2 --rootfs $D/rootfs warm2 /bin/true >/dev/null
for i in $(seq $RUNS); do
    t0=$(ms); $C run --rm --runtime io.containerd.urunc.v2 urunc.test/tiny:latest u$i exit=0 >/dev/null; t1=$(ms)
    echo $(( (t1 - t0) / 1000000 )) >> $D/urunc.ms
    t0=$(ms); $C run --rm --runtime io.containerd.runc.v2 --rootfs $D/rootfs r$i /bin/true >/dev/null; t1=$(ms)
    echo $(( (t1 - t0) / 1000000 )) >> $D/runc.ms
done
mu=$(median < $D/urunc.ms); mr=$(median < $D/runc.ms)

# memory: TASKS long-running tasks of each kind, then the shims' RSS and PSS
for i in $(seq $TASKS); do
    $C run -d --runtime io.containerd.urunc.v2 urunc.test/tiny:latest mu$i run >/dev/null
    $C run -d --runtime io.containerd.runc.v2 --rootfs $D/rootfs mr$i /bin/sleep 1000 >/dev/null
done
sleep 2
kb() { awk -v k="$1" '$1==k":" {s+=$2} END {print s+0}' "$2" 2>/dev/null; }
sum_mem() { local key=$1; shift; local s=0; for p in "$@"; do s=$(( s + $(kb $key /proc/$p/smaps_rollup) )); done; echo $s; }
upids=$(pgrep -f "io.urunc.shim.Main.*$D/c.sock.* daemon" || true)
rpids=$(pgrep -f "containerd-shim-runc-v2 -namespace default -id mr" || true)
[ -n "$rpids" ] || rpids=$(for p in $(pgrep -f containerd-shim-runc-v2); do grep -q "$D" /proc/$p/environ 2>/dev/null && echo $p; done)
urss=$(sum_mem Rss $upids); upss=$(sum_mem Pss $upids)
rrss=$(sum_mem Rss $rpids); rpss=$(sum_mem Pss $rpids)
printf '\n%-46s %10s %10s %8s\n' "measurement (median of $RUNS)" urunc runc ratio
printf '%-46s %8s ms %8s ms %8s\n' "ctr run --rm (tiny unikernel / runc true)" "$mu" "$mr" "$(awk -v a=$mu -v b=$mr 'BEGIN{printf "%.2fx", a/b}')"
printf '%-46s %8s ms\n' "first task of a namespace (daemon JVM start)" "$first_urunc"
printf '%-46s %7s KiB %7s KiB %8s\n' "shim RSS with $TASKS running tasks" "$urss" "$rrss" "$(awk -v a=$urss -v b=$rrss 'BEGIN{printf "%.2fx", a/b}')"
printf '%-46s %7s KiB %7s KiB %8s\n' "shim PSS with $TASKS running tasks" "$upss" "$rpss" "$(awk -v a=$upss -v b=$rpss 'BEGIN{printf "%.2fx", a/b}')"
echo "(urunc daemons: $(echo $upids | wc -w); runc shims: $(echo $rpids | wc -w); QEMU memory is the guest's and not counted)"
