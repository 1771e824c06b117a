#!/bin/bash
# Builds urunc-java, installs the shim for containerd and boots a unikernel through containerd.
#   ./install.sh                 build + install + run the demo (as root) (a Linux unikernel printing a greeting)
#   PREFIX=/opt/urunc ./install.sh   install elsewhere (default /usr/local)
set -euo pipefail
cd "$(dirname "$0")"
PREFIX=${PREFIX:-/usr/local}
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
say() { printf '\n== %s\n' "$*" >&2; }

say "dependencies (Debian packages)"
scripts/deps.sh

say "build"
./mvnw -B -ntp -q -DskipTests -DskipITs install

say "install into $PREFIX"
install -d "$PREFIX/lib/urunc/lib" "$PREFIX/bin"
rm -f "$PREFIX/lib/urunc/lib/"*.jar
cp shim/target/dist/lib/*.jar "$PREFIX/lib/urunc/lib/"
sed -e "s#@URUNC_HOME@#$PREFIX/lib/urunc#" -e "s#@URUNC_JAVA@#$JAVA_HOME/bin/java#" \
    shim/target/dist/bin/containerd-shim-urunc-v2 > "$PREFIX/bin/containerd-shim-urunc-v2"
chmod 755 "$PREFIX/bin/containerd-shim-urunc-v2"
# the AOT cache of the installed jars (a training run of the daemon, a few seconds); without it starts are slower
"$PREFIX/bin/containerd-shim-urunc-v2" aot-train || echo "warning: no AOT cache (the shim works, its cold start is slower)" >&2
cp builder/target/urunc-build.jar "$PREFIX/lib/urunc/urunc-build.jar"
cat > "$PREFIX/bin/urunc-build" <<SH
#!/bin/sh
exec "$JAVA_HOME/bin/java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$PREFIX/lib/urunc/urunc-build.jar" "\$@"
SH
chmod 755 "$PREFIX/bin/urunc-build"
if [ ! -e /etc/urunc/config.toml ]; then
    install -d /etc/urunc
    cp docs/config.toml /etc/urunc/config.toml
fi
echo "installed: $PREFIX/bin/containerd-shim-urunc-v2, $PREFIX/bin/urunc-build, /etc/urunc/config.toml" >&2

say "demo image (Linux kernel + one-program initrd, built from Debian packages)"
guests/build.sh
PATH="$PREFIX/bin:$PATH" guests/build-images.sh >/dev/null

say "containerd"
SOCK=/run/containerd/containerd.sock
if ! ctr --address "$SOCK" version >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then
        systemctl start containerd
    else
        PATH="$PREFIX/bin:$PATH" nohup containerd >/var/log/urunc-demo-containerd.log 2>&1 &
    fi
    for _ in $(seq 100); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
fi
ctr --address "$SOCK" images import guests/out/images/hello.tar >/dev/null

say "ctr run --rm --runtime io.containerd.urunc.v2 urunc.test/hello:latest"
ctr --address "$SOCK" run --rm --runtime io.containerd.urunc.v2 urunc.test/hello:latest "urunc-demo-$$"
say "done: the unikernel above booted under QEMU through containerd and exited"
