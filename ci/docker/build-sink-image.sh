#!/usr/bin/env bash
# Builds the sink's image from a sink binary built on this machine:
#
#   bash ci/docker/build-sink-image.sh [BINARY]     (default: target/release/sink if it exists,
#                                                    else target/debug/sink)
#
# tagged ${KQ_SINK_IMAGE:-kq/sink:dev}. The image holds the binary, the shared libraries `ldd`
# says it loads (copied from this machine, so they are the ones it was linked against: a binary
# built on Debian 13 would not start on an older Debian base), CA certificates, and a user of its
# own (uid 10001). Nothing is pulled (FROM scratch). Idempotent: the image carries a
# `kq.sink.binary` label, the binary's sha256, and is only rebuilt when that changes; the
# harness compares the label with the binary it would otherwise run and says when the image
# is older.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
image=${KQ_SINK_IMAGE:-kq/sink:dev}
binary=${1:-}
if [ -z "$binary" ]; then
  binary=$repo/target/release/sink
  [ -x "$binary" ] || binary=$repo/target/debug/sink
fi
if [ ! -x "$binary" ]; then
  echo "error: no sink binary at $binary; build it first: cargo build --release -p sink" >&2
  exit 1
fi
start=$(date +%s.%N)
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }'; }

sha=$(sha256sum "$binary" | cut -d' ' -f1)
inputs=$( (echo "$sha"; cat "$here/sink/Dockerfile" "$0") | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{ index .Config.Labels "kq.inputs" }}' "$image" 2>/dev/null || true)" = "$inputs" ]; then
  echo "$image is up to date ($binary)"
  exit 0
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
rootfs=$context/rootfs
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/sink" "$rootfs/etc/ssl/certs" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
# A debug binary carries ~100 MB of debug info the image does not need.
if command -v strip >/dev/null; then
  strip -o "$rootfs/usr/local/bin/sink" "$binary"
else
  cp "$binary" "$rootfs/usr/local/bin/sink"
fi
# The dynamic loader and every library it resolves, at the same paths.
libs=$(ldd "$binary" | awk '/=> \// { print $3 } /^\t\// { print $1 }')
if [ -z "$libs" ]; then
  echo "error: ldd lists no libraries for $binary (a static binary needs none: drop this check)" >&2
  exit 1
fi
for lib in $libs; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
# /lib64 and /lib are symlinks on merged-/usr Debian; the copies above keep the paths ldd gave.
# The CA bundle, where OpenSSL (librdkafka's TLS) looks by default on Debian (OPENSSLDIR is
# /usr/lib/ssl, whose cert.pem and certs/ point into /etc/ssl/certs).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
  mkdir -p "$rootfs/usr/lib/ssl"
  ln -s /etc/ssl/certs "$rootfs/usr/lib/ssl/certs"
  ln -s /etc/ssl/certs/ca-certificates.crt "$rootfs/usr/lib/ssl/cert.pem"
fi
printf 'root:x:0:0:root:/root:/sbin/nologin\nsink:x:10001:10001:sink:/nonexistent:/sbin/nologin\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nsink:x:10001:\n' >"$rootfs/etc/group"
cp "$here/sink/Dockerfile" "$context/Dockerfile"

version=$("$binary" --version | awk '{print $2}')
if ! docker build -q --label "kq.inputs=$inputs" --label "kq.sink.binary=$sha" \
    --label "org.opencontainers.image.version=$version" \
    --label "org.opencontainers.image.title=sink" -t "$image" "$context" >"$context.log" 2>&1; then
  echo "error: building $image failed:" >&2
  cat "$context.log" >&2
  rm -f "$context.log"
  exit 1
fi
rm -f "$context.log"
docker image prune -f --filter "label=org.opencontainers.image.title=sink" >/dev/null
size=$(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')
echo "$image built from $binary in $(elapsed "$start") ($size)"
