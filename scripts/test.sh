#!/bin/bash
# The whole test suite: unit tests and end-to-end tests through real containerd, runc, QEMU, docker.
# Needs root (mounts, network namespaces, containerd). Usage (as root): scripts/test.sh [extra maven args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
exec ./mvnw -B -ntp verify "$@"
