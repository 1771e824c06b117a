#!/usr/bin/env bash
# ttrpc round-trip benchmark: our client -> our server and -> Debian's containerd-shim-runc-v2 (needs root).
# Usage: bench/run-ttrpc.sh [seconds-per-measurement]   (default 4; total well under a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
./mvnw -q -pl bench package dependency:build-classpath -DskipTests -Dmdep.outputFile=target/classpath.txt >/dev/null
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp "bench/target/classes:$(cat bench/target/classpath.txt)" io.urunc.bench.TtrpcBench "$@"
