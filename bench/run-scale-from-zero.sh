#!/usr/bin/env bash
# Knative's scale-from-zero figure: RunPodSandbox -> first HTTP 200 of the application, on the pod IP and through a
# sidecar proxy on localhost, the HTTP unikernel under urunc vs the same busybox httpd under runc, through a private
# containerd's CRI (1.6 and 2.1) and a CNI bridge: integration-tests' ScaleFromZeroBench.
# Needs root and a built tree (./mvnw -DskipTests -DskipITs install). Usage: bench/run-scale-from-zero.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -ntp -q verify -pl integration-tests -Dit.test=ScaleFromZeroBench -Dtest=none \
    -Dsurefire.failIfNoSpecifiedTests=false -Dbench.runs="${1:-5}" >/tmp/scale-from-zero.$$.log 2>&1 \
    || { tail -50 /tmp/scale-from-zero.$$.log; rm -f /tmp/scale-from-zero.$$.log; exit 1; }
rm -f /tmp/scale-from-zero.$$.log
cat integration-tests/target/scale-from-zero.md
