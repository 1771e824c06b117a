# Shared by the bench/run-*.sh scripts that drive private containerds (source it after `cd` to the repo root):
# a scratch directory $D removed with everything in it on exit, the built shim and a busybox rootfs in it, timing
# helpers, and start_containerd. Set BENCH_NAME before sourcing; URUNC_TOML_EXTRA adds lines to each urunc.toml.
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
FORKY=${FORKY_ROOT:-/opt/urunc-forky}/usr/bin
D=$(mktemp -d "/tmp/ubench-${BENCH_NAME:-run}.XXXX")
CPIDS=()

# every task and container of every namespace of every containerd of this run, then the containerds, their
# shims (named by this run's directory), mounts and files
bench_cleanup() {
    for dir in "$D"/*/; do
        [ -S "$dir/c.sock" ] || continue
        local c="${dir%/}/ctr.sh" ns t k
        for ns in $("$c" namespaces ls -q 2>/dev/null); do
            for t in $("$c" -n "$ns" tasks ls -q 2>/dev/null); do "$c" -n "$ns" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
            sleep 0.5
            for t in $("$c" -n "$ns" tasks ls -q 2>/dev/null); do "$c" -n "$ns" tasks delete -f "$t" >/dev/null 2>&1 || true; done
            for k in $("$c" -n "$ns" containers ls -q 2>/dev/null); do "$c" -n "$ns" containers delete "$k" >/dev/null 2>&1 || true; done
        done
    done
    # the unix sockets this run's shims listen on (in /run/containerd/s): a killed shim leaves its socket file behind
    local socks
    socks=$(listening_sockets $(pgrep -f "$D" || true))
    for p in "${CPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    for p in $(pgrep -f "$D" || true); do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in $socks; do if [ -S "$p" ]; then rm -f "$p"; fi; done
    grep -o " $D[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    # BENCH_KEEP_LOGS=DIR: the daemons' logs of the run are kept there (with BENCH_TOML_EXTRA='[log]\nlevel = "debug"\n'
    # in run-start.sh they break each Create down by phase)
    if [ -n "${BENCH_KEEP_LOGS:-}" ]; then
        local logs
        for logs in "$D"/*/u/log; do
            [ -d "$logs" ] || continue
            mkdir -p "$BENCH_KEEP_LOGS/${logs#$D/}" && cp "$logs"/*.log "$BENCH_KEEP_LOGS/${logs#$D/}/" || true
        done
    fi
    rm -rf "$D"
}
# listening_sockets PID...: the paths of the unix sockets these processes listen on (/proc/net/unix, state 01)
listening_sockets() {
    local inodes p
    inodes=$(for p in "$@"; do ls -l /proc/$p/fd 2>/dev/null; done | sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | sort -u | tr '\n' ' ')
    [ -n "$inodes" ] || return 0
    awk -v want=" $inodes" 'NR > 1 && $6 == "01" && index(want, " " $7 " ") && $8 ~ /^\// {print $8}' /proc/net/unix
}
trap bench_cleanup EXIT

mkdir -p $D/bin $D/rootfs/bin
# BENCH_DIST: another built shim (a copy of shim/target/dist, e.g. of the tree before a change) to measure
BENCH_DIST=${BENCH_DIST:-$PWD/shim/target/dist}
sed -e "s#@URUNC_HOME@#$BENCH_DIST#" -e "s#@URUNC_JAVA@#$JAVA#" "$BENCH_DIST/bin/containerd-shim-urunc-v2" > $D/bin/containerd-shim-urunc-v2
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
    printf '[shim]\nstate_dir = "%s/u"\nidle_exit_seconds = 30\n%b' $S "${URUNC_TOML_EXTRA:-}" > $S/urunc.toml
    printf 'version = %s\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri"]\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' \
        $version $S $S $S $S > $S/config.toml
    PATH=$D/bin:$pathprefix$PATH URUNC_CONFIG_FILE=$S/urunc.toml $bindir/containerd --config $S/config.toml >$S/containerd.log 2>&1 &
    CPIDS+=($!)
    printf '#!/bin/sh\nexec %s/ctr --address %s/c.sock "$@"\n' $bindir $S > $S/ctr.sh; chmod +x $S/ctr.sh
    for _ in $(seq 100); do $S/ctr.sh version >/dev/null 2>&1 && break; sleep 0.1; done
    $S/ctr.sh version >/dev/null
}
