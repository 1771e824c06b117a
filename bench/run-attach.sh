#!/usr/bin/env bash
# Network attach + detach (redirect mode, the first VM of a namespace) as the daemon does it, without a VM:
# UnikernelNetwork.attach/detach on a namespace with a veth like CNI's, in JVMs started with the daemon's options
# and class path (shim/target/dist) and its AOT cache when that matches (bench/attach/AttachProbe.java).
#   first  the first attach in a fresh JVM: one JVM per run (class loading, first spawn)
#   warm   later attaches in one JVM (rounds 2..N of each warm JVM)
# Medians in ms, the load average, and the daemon log's command count per attach.
# Needs root and a built tree (./mvnw -DskipTests install; the AOT cache: shim/target/dist/bin/containerd-shim-urunc-v2
# aot-train). Usage: bench/run-attach.sh [first runs] [warm rounds per JVM] [warm JVMs]
set -euo pipefail
cd "$(dirname "$0")/.."
FIRST=${1:-9}; ROUNDS=${2:-21}; WARM_JVMS=${3:-3}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
DIST=${BENCH_DIST:-$PWD/shim/target/dist}
LAUNCHER=$DIST/bin/containerd-shim-urunc-v2
T=ubat$$; H=${T}h; P=${T}p; WORK=$(mktemp -d /tmp/urunc-bench-attach.XXXXXX)
cleanup() {
    for ns in $H $P; do ip netns del $ns 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# the daemon's JVM options and class path, as the launcher computes them (it is the one source of both)
eval "$(sed -n '/^JVM_OPTS=/,/"$/p' "$LAUNCHER")"
CP=; for jar in "$DIST"/lib/*.jar; do CP=$CP${CP:+:}$jar; done
AOT=
if [ -r "$DIST/urunc.aot" ] && [ -r "$DIST/urunc.aot.stamp" ] \
   && [ "$(printf '%s\n' "$JVM_OPTS"; stat -L -c '%n %s %.9Y' "$DIST"/lib/*.jar)" = "$(cat "$DIST/urunc.aot.stamp")" ]; then
    AOT="-XX:AOTCache=$DIST/urunc.aot"
fi
"$JAVA_HOME/bin/javac" -d "$WORK/classes" -cp "$CP" bench/attach/AttachProbe.java

for ns in $H $P; do ip netns add $ns; ip -n $ns link set lo up; done
ip -n $H link add vh0 type veth peer name eth0 netns $P
ip -n $H addr add 10.251.0.1/24 dev vh0; ip -n $H link set vh0 up
ip -n $P addr add 10.251.0.2/24 dev eth0; ip -n $P link set eth0 up
ip -n $P route add default via 10.251.0.1

probe() {  # probe ROUNDS LEVEL
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" $JVM_OPTS $AOT -cp "$CP:$WORK/classes" AttachProbe "/var/run/netns/$P" "$1" "$WORK/log" "$2"
}
: > "$WORK/first"; : > "$WORK/warm"
for i in $(seq "$FIRST"); do probe 1 info >> "$WORK/first"; done
for i in $(seq "$WARM_JVMS"); do probe "$ROUNDS" info | tail -n +2 >> "$WORK/warm"; done
probe 2 debug > /dev/null
med() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo "network attach, redirect mode (${AOT:+with}${AOT:-without} the AOT cache; load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  first in a JVM: attach %s ms, detach %s ms (median of %d JVMs)\n' \
    "$(awk '{print $1}' "$WORK/first" | med)" "$(awk '{print $2}' "$WORK/first" | med)" "$FIRST"
printf '  warm:           attach %s ms, detach %s ms (median of %d)\n' \
    "$(awk '{print $1}' "$WORK/warm" | med)" "$(awk '{print $2}' "$WORK/warm" | med)" "$(wc -l < "$WORK/warm")"
printf '  commands per attach (daemon log): %s\n' \
    "$(grep -o 'attached (redirect) in [0-9]* ms, [0-9]* commands' "$WORK/log" | awk '{print $(NF-1)}' | sort -u | tr '\n' ' ')"
