#!/bin/bash
# Builds the test images (guests/images/*/Containerfile) as OCI tars with urunc-build:
#   guests/build-images.sh [OUT]      (default guests/out) -> OUT/images/<name>.tar named urunc.test/<name>:latest
# Runs guests/build.sh first (quick when up to date). Needs builder/target/urunc-build.jar
# (./mvnw -pl builder package) or URUNC_BUILD_JAR.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mkdir -p "${1:-$HERE/out}" && cd "${1:-$HERE/out}" && pwd)"
"$HERE/build.sh" "$OUT"
mkdir -p "$OUT/images"
export SOURCE_DATE_EPOCH=0
for dir in "$HERE"/images/*/; do
    name=$(basename "$dir")
    tar="$OUT/images/$name.tar"
    if [ -f "$tar" ] && [ -z "$(find "$dir" "$OUT/ctx/$name" -newer "$tar" -print -quit)" ]; then
        echo "images: $name up to date" >&2
        continue
    fi
    echo "images: building $name" >&2
    "$HERE/../builder/bin/urunc-build" build -q -t "urunc.test/$name:latest" -f "$dir/Containerfile" \
        -o "$tar" "$OUT/ctx/$name" >/dev/null
done
ls -l "$OUT/images" >&2
