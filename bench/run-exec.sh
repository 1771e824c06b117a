#!/usr/bin/env bash
# Exec latency through private containerds, in one run, on both stacks (Debian 12's containerd 1.6 and containerd 2.1
# from scripts/forky-stack.sh): `ctr task exec` of /bin/true into a running busybox container, the container run by
# urunc (which hands it to runc) against the same container run by containerd's Go runc shim (io.containerd.runc.v2).
# Both daemons are warm (one exec before timing). Medians of N, and the ratio.
# Needs root and a built tree (./mvnw -DskipTests -DskipITs install).
# Usage: bench/run-exec.sh [execs]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
FORKY=${FORKY_ROOT:-/opt/urunc-forky}/usr/bin
D=$(mktemp -d /tmp/ubench-exec.XXXX)
CPIDS=()
cleanup() {
    for dir in "$D"/*/; do
        [ -S "$dir/c.sock" ] || continue
        local c="${dir%/}/ctr.sh"
        for t in $("$c" tasks ls -q 2>/dev/null); do "$c" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
        sleep 0.5
        for t in $("$c" tasks ls -q 2>/dev/null); do "$c" tasks delete -f "$t" >/dev/null 2>&1 || true; done
        for k in $("$c" containers ls -q 2>/dev/null); do "$c" containers delete "$k" >/dev/null 2>&1 || true; done
    done
    for p in "${CPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    # shims of these containerds (named by this run's directory) that have not exited on their own
    for p in $(pgrep -f "$D" || true); do kill "$p" 2>/dev/null || true; done
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
    printf '[shim]\nstate_dir = "%s/u"\nidle_exit_seconds = 30\n' $S > $S/urunc.toml
    printf 'version = %s\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
        $version $S $S $S $S > $S/config.toml
    PATH=$D/bin:$pathprefix$PATH URUNC_CONFIG_FILE=$S/urunc.toml $bindir/containerd --config $S/config.toml >$S/containerd.log 2>&1 &
    CPIDS+=($!)
    printf '#!/bin/sh\nexec %s/ctr --address %s/c.sock "$@"\n' $bindir $S > $S/ctr.sh; chmod +x $S/ctr.sh
    for _ in $(seq 100); do $S/ctr.sh version >/dev/null 2>&1 && break; sleep 0.1; done
    $S/ctr.sh version >/dev/null
}

# bench_execs TAG: fills EXEC_U EXEC_R (medians, ms). The Go runc shim keeps runc's state in the host-wide
# /run/containerd/runc/<namespace>: container ids are unique per run and stack.
bench_execs() {
    local i u=ub$1-$$ r=rb$1-$$
    C=$S/ctr.sh
    $C run -d --runtime io.containerd.urunc.v2 --rootfs $D/rootfs $u /bin/sleep 1000 >/dev/null
    $C run -d --runtime io.containerd.runc.v2 --rootfs $D/rootfs $r /bin/sleep 1000 >/dev/null
    $C task exec --exec-id warm $u /bin/true; $C task exec --exec-id warm $r /bin/true
    for i in $(seq $N); do
        elapsed $C task exec --exec-id u$i $u /bin/true >> $S/urunc.ms
        elapsed $C task exec --exec-id r$i $r /bin/true >> $S/runc.ms
    done
    EXEC_U=$(median < $S/urunc.ms); EXEC_R=$(median < $S/runc.ms)
}

start_containerd 1.6 /usr/bin 2
bench_execs 16
E16=($EXEC_U $EXEC_R)
if [ -x $FORKY/containerd ]; then
    start_containerd 2.1 $FORKY 3
    bench_execs 21
    E21=($EXEC_U $EXEC_R)
else
    echo "containerd 2.1 not found in $FORKY: run scripts/forky-stack.sh" >&2
    E21=(0 1)
fi

printf '\n%-48s %10s %10s %8s\n' "ctr task exec /bin/true (median of $N)" urunc runc ratio
printf '%-48s %8s ms %8s ms %8s\n' "containerd 1.6" "${E16[0]}" "${E16[1]}" "$(ratio "${E16[0]}" "${E16[1]}")"
printf '%-48s %8s ms %8s ms %8s\n' "containerd 2.1" "${E21[0]}" "${E21[1]}" "$(ratio "${E21[0]}" "${E21[1]}")"
