#!/usr/bin/env bash
# Whole-process timings and memory through private containerds, in one run, on both stacks (Debian 12's containerd
# 1.6 and containerd 2.1 from scripts/forky-stack.sh), urunc against runc each time:
#   warm: `ctr run --rm` of the tiny unikernel through urunc (QEMU/TCG, daemon running) vs `ctr run --rm` of
#         /bin/true through runc; cold: the same, each in a fresh containerd namespace (urunc then starts its
#         daemon's JVM, from the AOT cache when shim/target/dist has a valid one); the cold daemons' own log gives
#         exec -> serving and the first Create; the daemon's JVM alone (exec -> READY, no containerd) with and without
#         the AOT cache; memory: RSS and PSS of the shim processes idle and with 1, 5 and 50 tasks running, and the
#         urunc daemon's again once settled (BENCH_SETTLE s later, default 12).
# The memory figures are of the one daemon alone (the run's other daemons have idle-exited).
# Prints markdown (bench/RESULTS.md is its output). Needs root and a built tree (./mvnw -DskipTests install;
# guests/build.sh; guests/build-images.sh).
# Usage: bench/run-start.sh [runs] [cold runs] [task counts]   (defaults 15, 3 and "1 5 50")
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-15}; COLD=${2:-3}; COUNTS=${3:-1 5 50}
BENCH_NAME=start
URUNC_TOML_EXTRA='[monitors.qemu]\naccelerator = "tcg"\ndefault_memory_mb = 64\n'"${BENCH_TOML_EXTRA:-}"
. bench/lib.sh

urunc_run() { $C -n "$1" run --rm --runtime io.containerd.urunc.v2 urunc.test/tiny:latest "$2" exit=0; }
runc_run() { $C -n "$1" run --rm --runtime io.containerd.runc.v2 --rootfs $D/rootfs "$2" /bin/true; }

# bench_starts: fills WARM_U WARM_R COLD_U COLD_R (medians, ms), EXEC_SERVING and FIRST_CREATE (cold daemons'
# own figures, medians) and WARM_CREATE (Creates of the warm daemon, median)
bench_starts() {
    local i
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
    local cold_logs=() warm_log
    for i in $(seq $COLD); do cold_logs+=("$(grep -l "serving namespace cold$i " $S/u/log/*.log | head -1)"); done
    warm_log=$(grep -l "serving namespace default " $S/u/log/*.log | head -1)
    EXEC_SERVING=$(cat "${cold_logs[@]}" | sed -n 's/.* \([0-9]*\) ms after exec .*/\1/p' | median)
    EXEC_CPU=$(cat "${cold_logs[@]}" | sed -n 's/.* ms after exec (\([0-9]*\) ms of CPU)$/\1/p' | median)
    FIRST_CREATE=$(for f in "${cold_logs[@]}"; do sed -n 's/.* created (VMM pid [0-9]*) in \([0-9]*\) ms$/\1/p' "$f" | head -1; done | median)
    WARM_CREATE=$(sed -n 's/.* created (VMM pid [0-9]*) in \([0-9]*\) ms$/\1/p' "$warm_log" | tail -n +2 | median)
}

kb() { awk -v k="$1" '$1==k":" {s+=$2} END {print s+0}' "$2" 2>/dev/null; }
sum_mem() { local key=$1; shift; local s=0; for p in "$@"; do s=$(( s + $(kb $key /proc/$p/smaps_rollup) )); done; echo $s; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
upids() { pgrep -f "io.urunc.shim.Main -namespace $1 -address $S/c.sock .* daemon" || true; }
rpids() { pgrep -f "containerd-shim-runc-v2 -namespace $1 .*-address $S/c.sock" || true; }

# bench_memory: RSS/PSS (KiB) of the urunc daemon and of the runc shims with 0 (idle daemon) and COUNTS tasks, and
# the daemon's again SETTLE s later (past [shim] idle_release_seconds, 10 by default, and the JVM's 5 s cycle of
# freeing C1's arena chunks and trimming malloc); fills MEM rows "n|urss|upss|rrss|rpss|settled urss|settled upss"
SETTLE=${BENCH_SETTLE:-12}
bench_memory() {
    local ns=mem n have=0 i
    MEM=()
    $C -n $ns images import guests/out/images/tiny.tar >/dev/null
    # measured alone, as on a host with one namespace: the other namespaces' daemons of this run (the warm and cold
    # ones, the other containerd's) idle-exit first (idle_exit_seconds = 30); beside them a daemon's PSS is lower
    # (shared pages) and its RSS higher (pages it cannot give back while others map them)
    local others
    for i in $(seq 45); do
        others=$(pgrep -f "io.urunc.shim.Main -namespace .* -address $D/.* daemon" || true)
        [ -n "$others" ] || break
        sleep 1
    done
    [ -z "$others" ] || echo "bench_memory: other daemons still run: $others" >&2
    # idle: the daemon that just served one task and has none
    $C -n $ns run --rm --runtime io.containerd.urunc.v2 urunc.test/tiny:latest idle exit=0 >/dev/null
    sleep 2
    local up; up=$(upids $ns)
    local row="0|$(sum_mem Rss $up)|$(sum_mem Pss $up)|0|0"
    sleep $SETTLE
    MEM+=("$row|$(sum_mem Rss $up)|$(sum_mem Pss $up)")
    for n in $COUNTS; do
        for i in $(seq $((have + 1)) $n); do
            $C -n $ns run -d --runtime io.containerd.urunc.v2 urunc.test/tiny:latest mu$i run >/dev/null
            $C -n $ns run -d --runtime io.containerd.runc.v2 --rootfs $D/rootfs mr$i /bin/sleep 1000 >/dev/null
        done
        have=$n
        sleep 3
        up=$(upids $ns); local rp; rp=$(rpids $ns)
        row="$n|$(sum_mem Rss $up)|$(sum_mem Pss $up)|$(sum_mem Rss $rp)|$(sum_mem Pss $rp)"
        UDAEMONS=$(echo $up | wc -w); RSHIMS=$(echo $rp | wc -w)
        UTHREADS=$(for p in $up; do ls /proc/$p/task | wc -l; done | awk '{s+=$1} END {print s+0}')
        sleep $SETTLE
        MEM+=("$row|$(sum_mem Rss $up)|$(sum_mem Pss $up)")
    done
    for i in $(seq $have); do
        $C -n $ns tasks kill -s SIGKILL mu$i >/dev/null 2>&1 || true
        $C -n $ns tasks kill -s SIGKILL mr$i >/dev/null 2>&1 || true
    done
    sleep 1
    for i in $(seq $have); do
        $C -n $ns tasks delete mu$i >/dev/null 2>&1 || true; $C -n $ns containers delete mu$i >/dev/null 2>&1 || true
        $C -n $ns tasks delete mr$i >/dev/null 2>&1 || true; $C -n $ns containers delete mr$i >/dev/null 2>&1 || true
    done
}

# bench_jvm: the daemon's JVM alone, exec -> READY on its stdout, with and without the AOT cache, interleaved
bench_jvm() {
    local opts i hex
    opts=$(URUNC_JAVA=/bin/echo URUNC_HOME=$PWD/shim/target/dist sh shim/target/dist/bin/containerd-shim-urunc-v2 -version \
        | sed 's/ -cp .*//')
    mkdir -p $D/jvm/s
    printf '[shim]\nstate_dir = "%s/jvm/u"\nidle_exit_seconds = 1\n' $D > $D/jvm/urunc.toml
    local cp; cp=$(printf '%s:' "$PWD"/shim/target/dist/lib/*.jar); cp=${cp%:}
    ready() {
        hex=$(printf 'jvm%s' "$RANDOM$i" | sha256sum | cut -c1-64)
        local t0; t0=$(ms)
        # shellcheck disable=SC2086
        URUNC_CONFIG_FILE=$D/jvm/urunc.toml $JAVA $2 -cp "$cp" io.urunc.shim.Main -namespace $1 -address $D/jvm/none \
            -publish-binary /bin/true -socket $D/jvm/s/$hex -id t daemon 2>/dev/null | { read -r _; echo $(( ($(ms) - t0) / 1000000 )); } || true
    }
    for i in $(seq 5); do
        ready jvmaot "$opts" >> $D/jvm/aot.ms; sleep 1.5
        ready jvmnoaot "$(echo "$opts" | sed 's/ -XX:AOTCache=[^ ]*//')" >> $D/jvm/noaot.ms; sleep 1.5
    done
    sleep 1
    JVM_AOT=$(median < $D/jvm/aot.ms); JVM_NOAOT=$(median < $D/jvm/noaot.ms)
    jvm_cpu() { cat $D/jvm/u/log/*.log | sed -n "s/.* namespace $1 .* ms after exec (\([0-9]*\) ms of CPU)\$/\1/p" | median; }
    JVM_AOT_CPU=$(jvm_cpu jvmaot); JVM_NOAOT_CPU=$(jvm_cpu jvmnoaot)
    case "$opts" in *AOTCache*) ;; *) JVM_AOT="(no valid cache)";; esac
    sleep 2
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
bench_jvm
declare -A R
run_stack() {
    local name=$1
    start_containerd "$@"
    bench_starts
    R[$name.warm]="$WARM_U|$WARM_R"; R[$name.cold]="$COLD_U|$COLD_R"
    R[$name.serving]=$EXEC_SERVING; R[$name.cpu]=$EXEC_CPU; R[$name.create1]=$FIRST_CREATE; R[$name.create]=$WARM_CREATE
    bench_memory
    R[$name.mem]="${MEM[*]}"; R[$name.daemons]="$UDAEMONS urunc daemon(s), $UTHREADS threads; $RSHIMS runc shims"
}
run_stack 1.6 /usr/bin 2
if [ -x $FORKY/containerd ]; then
    run_stack 2.1 $FORKY 3
else
    echo "containerd 2.1 not found in $FORKY: run scripts/forky-stack.sh" >&2
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## bench/run-start.sh, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "Machine: $(nproc) cores ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r); $($JAVA -version 2>&1 | head -1); QEMU/TCG."
echo "Load average (1/5/15 min) before: $LOAD_BEFORE, after: $LOAD_AFTER. Medians; warm of $RUNS, cold of $COLD runs."
echo
echo "| ctr run --rm | urunc | runc | ratio |"
echo "|---|---|---|---|"
for st in 1.6 2.1; do
    [ -n "${R[$st.warm]:-}" ] || continue
    IFS='|' read -r u r <<< "${R[$st.warm]}"; echo "| warm, containerd $st | $u ms | $r ms | $(ratio $u $r) |"
    IFS='|' read -r u r <<< "${R[$st.cold]}"; echo "| cold (new namespace: daemon JVM start), containerd $st | $u ms | $r ms | $(ratio $u $r) |"
done
echo
echo "| inside the daemon (its log) | containerd 1.6 | containerd 2.1 |"
echo "|---|---|---|"
echo "| cold: daemon exec -> serving (10 ms resolution) | ${R[1.6.serving]} ms | ${R[2.1.serving]:-} ms |"
echo "| cold: CPU the daemon's JVM used until serving | ${R[1.6.cpu]} ms | ${R[2.1.cpu]:-} ms |"
echo "| cold: first Create of a daemon | ${R[1.6.create1]} ms | ${R[2.1.create1]:-} ms |"
echo "| warm: Create (request to VMM launched, held) | ${R[1.6.create]} ms | ${R[2.1.create]:-} ms |"
echo
echo "Daemon JVM alone, exec -> READY (no containerd, 5 interleaved runs): with the AOT cache $JVM_AOT ms ($JVM_AOT_CPU ms of CPU), without $JVM_NOAOT ms ($JVM_NOAOT_CPU ms of CPU)."
echo
echo "| shim memory, tasks running | urunc RSS | urunc PSS | runc shims RSS | runc shims PSS | PSS ratio | urunc RSS / PSS ${SETTLE} s later | PSS ratio then |"
echo "|---|---|---|---|---|---|---|---|"
for st in 1.6 2.1; do
    [ -n "${R[$st.mem]:-}" ] || continue
    for row in ${R[$st.mem]}; do
        IFS='|' read -r n urss upss rrss rpss srss spss <<< "$row"
        if [ "$n" = 0 ]; then
            echo "| idle daemon (no task), containerd $st | $(mib $urss) MiB | $(mib $upss) MiB | | | | $(mib $srss) / $(mib $spss) MiB | |"
        else
            echo "| $n, containerd $st | $(mib $urss) MiB | $(mib $upss) MiB | $(mib $rrss) MiB | $(mib $rpss) MiB | $(ratio $upss $rpss) | $(mib $srss) / $(mib $spss) MiB | $(ratio $spss $rpss) |"
        fi
    done
    echo "| (at the largest count, containerd $st: ${R[$st.daemons]}) | | | | | | | |"
done
echo
echo "QEMU's memory is the guest's and is not counted; nor are runc's containers (sleep)."
