#!/usr/bin/env bash
# Cost of the pod networking per connection and per byte, without a VM: the guest is a network namespace on the
# far end of a veth named like the tap, so what is measured is the pod namespace's data path alone (under TCG a
# real guest would hide it). Paths, all TCP from a client to a server (bench/podnet/PodNetProbe.java):
#   plain      node -> pod IP, server in the pod namespace itself (what a runc container gets)
#   redirect   node -> pod IP, server in the guest; tc mirred both ways (ctr run / docker: the guest owns eth0)
#   routed     node -> pod IP, server in the guest; nftables DNAT + forwarding (a pod's guest, PodRules' script)
#   localhost  pod namespace (a sidecar) -> 127.0.0.1 -> DNAT to the guest (routed)
#   sidecar    pod namespace (a sidecar) -> the guest's own address 169.254.100.2 (routed, no DNAT)
# Needs root, a built tree (./mvnw -DskipTests install). Usage: bench/run-podnet.sh [connections] [MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}; MIB=${2:-512}
JAVA=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
PROBE=$PWD/bench/podnet/PodNetProbe.java
T=ubpn$$; H=${T}h; P=${T}p; G=${T}g; TAP=urtbench0; PORT=18080
SERVERS=()
cleanup() {
    for s in "${SERVERS[@]}"; do kill "$s" 2>/dev/null || true; done
    for ns in $H $P $G; do ip netns del $ns 2>/dev/null || true; rm -f /tmp/$T.$ns; done
}
trap cleanup EXIT
for ns in $H $P $G; do ip netns add $ns; ip -n $ns link set lo up; done
ip -n $H link add vh0 type veth peer name eth0 netns $P
ip -n $H addr add 10.250.0.1/24 dev vh0; ip -n $H link set vh0 up
ip -n $P link set eth0 address 02:00:00:00:fa:02; ip -n $P addr add 10.250.0.2/24 dev eth0; ip -n $P link set eth0 up
ip -n $P route add default via 10.250.0.1

serve_in() {  # serve_in NETNS: the probe's server (on every address: it outlives the guest link's changes)
    ip netns exec "$1" "$JAVA" "$PROBE" serve $PORT > /tmp/$T.$1 2>&1 & SERVERS+=($!)
    for _ in $(seq 100); do grep -q ready /tmp/$T.$1 2>/dev/null && { rm -f /tmp/$T.$1; return; }; sleep 0.1; done
    cat /tmp/$T.$1; exit 1
}
guest_link() {  # a veth named like the tap, its peer in the guest namespace
    ip -n $P link del $TAP 2>/dev/null || true
    ip -n $P link add $TAP type veth peer name eth0 netns $G
    ip -n $P link set $TAP up
}
measure() {  # measure NAME FROM_NETNS HOST
    local c b
    c=$(ip netns exec "$2" "$JAVA" "$PROBE" connections "$3" $PORT $N)
    b=$(ip netns exec "$2" "$JAVA" "$PROBE" bytes "$3" $PORT $MIB)
    printf '| %-9s | %6s µs | %6s µs | %6s MiB/s |\n' "$1" ${c% *} ${c#* } "$b"
}
serve_in $P
serve_in $G
# both servers' JIT warmed on the plain path (the guest's through its own loopback) before anything is timed
ip netns exec $H "$JAVA" "$PROBE" connections 10.250.0.2 $PORT $N >/dev/null
ip netns exec $G "$JAVA" "$PROBE" connections 127.0.0.1 $PORT $N >/dev/null
echo "| path      | per connection (median) | p90 | bulk |"
echo "|---|---|---|---|"
measure plain $H 10.250.0.2

guest_link
ip -n $G link set eth0 address 02:00:00:00:fa:02; ip -n $G addr add 10.250.0.2/24 dev eth0; ip -n $G link set eth0 up
ip -n $G route add default via 10.250.0.1
tc -n $P qdisc add dev $TAP ingress
tc -n $P filter add dev $TAP parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev eth0
tc -n $P qdisc add dev eth0 ingress
tc -n $P filter add dev eth0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev $TAP
measure redirect $H 10.250.0.2
tc -n $P qdisc del dev eth0 ingress

guest_link
ip -n $G addr add 169.254.100.2/30 dev eth0; ip -n $G link set eth0 up; ip -n $G route add default via 169.254.100.1
ip -n $P addr add 169.254.100.1/30 dev $TAP
ip netns exec $P sysctl -qw net/ipv4/conf/eth0/forwarding=1 net/ipv4/conf/$TAP/forwarding=1 net/ipv4/conf/$TAP/route_localnet=1
"$JAVA" -cp network/target/classes io.urunc.network.PodRules $TAP eth0 10.250.0.2 169.254.100.2 $PORT true \
    | ip netns exec $P nft -f -
measure routed $H 10.250.0.2
measure localhost $P 127.0.0.1
measure sidecar $P 169.254.100.2
echo
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
