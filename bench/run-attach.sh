#!/usr/bin/env bash
# Network attach (redirect mode: the first VM of a namespace takes over its veth, as after CNI or docker) and
# detach, measured two ways:
#   daemon    through a private containerd 1.6 and the daemon's own log at debug ("attached (redirect) in N ms,
#             K commands"): `ctr run --rm --with-ns network:NETNS` of the tiny guest; first = the first Create of a
#             fresh daemon (a new containerd namespace each: JVM from the AOT cache when shim/target/dist has a valid
#             one), warm = later Creates of one daemon
#   bare JVM  UnikernelNetwork.attach/detach alone (bench/attach/AttachProbe.java) in JVMs with the daemon's options,
#             class path and AOT cache, no containerd: first = one attach per fresh JVM (which has loaded nothing
#             else yet, so it pays more than a daemon does), warm = later rounds in one JVM; detach too
# Medians (ms) and the load average. Needs root, a built tree (./mvnw -DskipTests install) and guests/out (guests/build.sh).
# BENCH_DIST=DIR measures another built shim (a copy of shim/target/dist). Usage:
# bench/run-attach.sh [first runs] [warm runs] [bare-JVM rounds per JVM]   (defaults 7 15 21)
set -euo pipefail
cd "$(dirname "$0")/.."
FIRST=${1:-7}; WARM=${2:-15}; ROUNDS=${3:-21}
BENCH_NAME=attach
URUNC_TOML_EXTRA='[monitors.qemu]\naccelerator = "tcg"\ndefault_memory_mb = 64\n[log]\nlevel = "debug"\n'
. bench/lib.sh
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
T=ubat$$; H=${T}h; P=${T}p
cleanup() {
    bench_cleanup
    for ns in $H $P; do ip netns del $ns 2>/dev/null || true; done
}
trap cleanup EXIT
for ns in $H $P; do ip netns add $ns; ip -n $ns link set lo up; done
ip -n $H link add vh0 type veth peer name eth0 netns $P
ip -n $H addr add 10.251.0.1/24 dev vh0; ip -n $H link set vh0 up
ip -n $P addr add 10.251.0.2/24 dev eth0; ip -n $P link set eth0 up
ip -n $P route add default via 10.251.0.1
med() { median; }
attached() { sed -n 's/.* attached (redirect) in \([0-9]*\) ms, \([0-9]*\) commands$/\'"$1"'/p'; }
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- daemon
start_containerd c16 /usr/bin 2
C=$S/ctr.sh
run() { $C -n "$1" run --rm --runtime io.containerd.urunc.v2 --with-ns network:/var/run/netns/$P urunc.test/tiny:latest "$2" exit=0 >/dev/null; }
for i in $(seq "$FIRST"); do
    $C -n first$i images import guests/out/images/tiny.tar >/dev/null
    run first$i f$i
done
$C -n default images import guests/out/images/tiny.tar >/dev/null
for i in $(seq $((WARM + 1))); do run default w$i; done
logs() { grep -l "serving namespace $1 " $S/u/log/*.log | head -1; }
D_FIRST=$(for i in $(seq "$FIRST"); do attached 1 < "$(logs first$i)" | head -1; done | med)
D_WARM=$(attached 1 < "$(logs default)" | tail -n +2 | med)
D_CMDS=$(cat $S/u/log/*.log | attached 2 | sort -u | tr '\n' ' ')

# --- bare JVM
eval "$(sed -n '/^JVM_OPTS=/,/"$/p' "$BENCH_DIST/bin/containerd-shim-urunc-v2")"
CP=; for jar in "$BENCH_DIST"/lib/*.jar; do CP=$CP${CP:+:}$jar; done
AOT=
if [ -r "$BENCH_DIST/urunc.aot" ] && [ -r "$BENCH_DIST/urunc.aot.stamp" ] \
   && [ "$(printf '%s\n' "$JVM_OPTS"; stat -L -c '%n %s %.9Y' "$BENCH_DIST"/lib/*.jar)" = "$(cat "$BENCH_DIST/urunc.aot.stamp")" ]; then
    AOT="-XX:AOTCache=$BENCH_DIST/urunc.aot"
fi
"$JAVA_HOME/bin/javac" -d "$D/probe" -cp "$CP" bench/attach/AttachProbe.java
probe() {  # probe ROUNDS
    # shellcheck disable=SC2086
    "$JAVA_HOME/bin/java" $JVM_OPTS $AOT -cp "$CP:$D/probe" AttachProbe "/var/run/netns/$P" "$1" "$D/probe.log" info
}
for i in $(seq "$FIRST"); do probe 1 >> "$D/first"; done
for i in 1 2; do probe "$ROUNDS" | tail -n +2 >> "$D/warm"; done
col() { awk "{print \$$1}" "$2" | med; }

CACHE="without a valid AOT cache"; [ -z "$AOT" ] || CACHE="with its AOT cache"
echo "network attach + detach, redirect mode; shim $BENCH_DIST ($CACHE)"
echo "load before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg); medians"
echo "| | attach | detach |"
echo "|---|---|---|"
echo "| daemon: first Create of a fresh daemon ($FIRST) | $D_FIRST ms | |"
echo "| daemon: warm Creates ($WARM) | $D_WARM ms | |"
echo "| bare JVM: first in a fresh JVM ($FIRST) | $(col 1 "$D/first") ms | $(col 2 "$D/first") ms |"
echo "| bare JVM: warm ($(wc -l < "$D/warm")) | $(col 1 "$D/warm") ms | $(col 2 "$D/warm") ms |"
echo "commands per attach (daemon log): $D_CMDS"
