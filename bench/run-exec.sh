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
BENCH_NAME=exec
. bench/lib.sh

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
