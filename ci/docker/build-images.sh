#!/usr/bin/env bash
# Builds the images the harness's docker backend runs, from Debian's packages and the jars the
# harness provisions (no registry is reachable on the CI machines, so nothing is pulled):
#
#   kq/debian-java:17              Debian root filesystem (debootstrap) with Java 17, `docker import`ed
#   confluentinc/cp-zookeeper:TAG  stand-in: ZooKeeper from Kafka's jars, cp-zookeeper's env contract
#   confluentinc/cp-kafka:TAG      stand-in: Kafka 3.9.2, cp-kafka's env contract
#   questdb/questdb:TAG            stand-in: QuestDB 9.3.4, the official image's env contract
#
# The tags are the harness's defaults (KQ_ZOOKEEPER_IMAGE, KQ_KAFKA_IMAGE, KQ_QUESTDB_IMAGE
# override both). Idempotent: every image carries a `kq.inputs` label, a hash of what it was built
# from, and is only rebuilt when that changes; the root filesystem tarball is cached under
# $KQ_CACHE_DIR/docker (default ~/.cache/kq-conformance/docker).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KQ_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kq-conformance}
mkdir -p "$cache/docker"

base_image=kq/debian-java:17
zookeeper_image=${KQ_ZOOKEEPER_IMAGE:-confluentinc/cp-zookeeper:7.9.1}
kafka_image=${KQ_KAFKA_IMAGE:-confluentinc/cp-kafka:7.9.1}
questdb_image=${KQ_QUESTDB_IMAGE:-questdb/questdb:9.3.4}
suite=bookworm
# The mirror apt uses on this machine (deb822 or one-line sources), else Debian's CDN.
detect_mirror() {
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
  } | awk '/\/debian\/?$/ && !found { print; found = 1 }' || true
}
mirror=${KQ_DEBIAN_MIRROR:-$(detect_mirror)}
mirror=${mirror:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
total_start=$(date +%s.%N)
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }'; }
label_of() { docker image inspect -f "{{ index .Config.Labels \"kq.inputs\" }}" "$1" 2>/dev/null || true; }

# --- 1. the base image --------------------------------------------------------------------------
packages=$(grep -v '^#' "$here/base.packages" | xargs | tr ' ' ',')
base_inputs=$(printf '%s\n' "$suite" "$mirror" "$packages" | sha256sum | cut -c1-16)
if [ "$(label_of "$base_image")" != "$base_inputs" ]; then
  step=$(date +%s.%N)
  tarball=$cache/docker/rootfs-$suite-$base_inputs.tar
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null || {
      echo "installing debootstrap"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends debootstrap
    }
    rootfs=$(mktemp -d "$cache/docker/.rootfs-XXXXXX")
    trap '$SUDO rm -rf "$rootfs"' EXIT
    echo "debootstrap $suite from $mirror with $packages"
    $SUDO debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
      >"$cache/docker/debootstrap.log" 2>&1 || {
      echo "error: debootstrap failed; last lines of $cache/docker/debootstrap.log:" >&2
      tail -n 30 "$cache/docker/debootstrap.log" >&2
      exit 1
    }
    # What a container never needs: package lists and caches, docs, translations.
    $SUDO rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    $SUDO tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    $SUDO rm -rf "$rootfs"
    trap - EXIT
    echo "root filesystem built in $(elapsed "$step") -> $tarball ($(du -h "$tarball" | cut -f1))"
  fi
  step=$(date +%s.%N)
  docker import \
    --change "LABEL kq.inputs=$base_inputs" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    "$tarball" "$base_image" >/dev/null
  echo "$base_image imported in $(elapsed "$step")"
else
  echo "$base_image is up to date"
fi
base_id=$(docker image inspect -f '{{.Id}}' "$base_image")

# --- 2. the jars --------------------------------------------------------------------------------
# The harness caches them under $cache/services-<hash>/ next to a copy of the pom that produced
# them; use the one whose pom matches ci/services/pom.xml and that holds the pom's default
# versions (marked by a `default` file; the version matrix caches other combinations beside it).
# Without one, provision like the harness (Maven takes the pom's default versions).
pom=$repo/ci/services/pom.xml
libs=
for dir in "$cache"/services-*/; do
  if [ -f "$dir/pom.xml" ] && [ -f "$dir/default" ] && cmp -s "$dir/pom.xml" "$pom" \
    && [ -d "$dir/libs" ]; then
    libs=${dir%/}/libs
    break
  fi
done
if [ -z "$libs" ]; then
  pom_hash=$(sha256sum "$pom" | cut -c1-12)
  libs=$cache/docker/libs-$pom_hash
  if [ ! -d "$libs" ]; then
    echo "provisioning the service jars with Maven"
    mvn -B -q -f "$pom" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$libs.tmp"
    mv "$libs.tmp" "$libs"
  fi
fi
questdb_jar=$(ls "$libs"/questdb-*.jar)
jars_hash=$( (cd "$libs" && ls -l --time-style=+ ./*.jar | awk '{print $5, $NF}') | sha256sum | cut -c1-16)

# --- 3. the service images ----------------------------------------------------------------------
# Builds $1 (tag) from a context dir holding $2's Dockerfile and entrypoint plus extra files.
build() {
  local tag=$1 dir=$2 inputs=$3 context
  shift 3
  if [ "$(label_of "$tag")" = "$inputs" ]; then
    echo "$tag is up to date"
    return
  fi
  local step
  step=$(date +%s.%N)
  context=$(mktemp -d)
  cp "$dir"/* "$context"/
  while [ $# -gt 0 ]; do
    # Hard links where possible: the jars are not copied twice on disk.
    cp -rl "$1" "$context/$2" 2>/dev/null || cp -r "$1" "$context/$2"
    shift 2
  done
  if ! docker build -q --label "kq.inputs=$inputs" --label kq.stand-in=true \
      --build-arg "BASE_IMAGE=$base_image" --build-arg "LIBS_IMAGE=kq/kafka-libs:$jars_hash" \
      -f "$context/${dockerfile:-Dockerfile}" -t "$tag" "$context" >"$context.log" 2>&1; then
    rm -rf "$context"
    echo "error: building $tag failed:" >&2
    cat "$context.log" >&2
    rm -f "$context.log"
    exit 1
  fi
  rm -rf "$context" "$context.log"
  echo "$tag built in $(elapsed "$step")"
}
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

libs_inputs=$(printf '%s %s %s' "$base_id" "$jars_hash" "$(hash_of "$here/libs.Dockerfile")" | sha256sum | cut -c1-16)
libs_dir=$(mktemp -d)
for jar in "$libs"/*.jar; do
  case "$(basename "$jar")" in questdb-*) ;; *) ln "$jar" "$libs_dir/" 2>/dev/null || cp "$jar" "$libs_dir/";; esac
done
mkdir -p "$libs_dir.ctx" && cp "$here/libs.Dockerfile" "$libs_dir.ctx/Dockerfile"
dockerfile=Dockerfile build "kq/kafka-libs:$jars_hash" "$libs_dir.ctx" "$libs_inputs" "$libs_dir" libs
rm -rf "$libs_dir" "$libs_dir.ctx"
libs_id=$(docker image inspect -f '{{.Id}}' "kq/kafka-libs:$jars_hash")

build "$zookeeper_image" "$here/zookeeper" \
  "$(printf '%s %s' "$libs_id" "$(hash_of "$here"/zookeeper/*)" | sha256sum | cut -c1-16)"
build "$kafka_image" "$here/kafka" \
  "$(printf '%s %s' "$libs_id" "$(hash_of "$here"/kafka/*)" | sha256sum | cut -c1-16)"
build "$questdb_image" "$here/questdb" \
  "$(printf '%s %s %s' "$base_id" "$jars_hash" "$(hash_of "$here"/questdb/*)" | sha256sum | cut -c1-16)" \
  "$questdb_jar" questdb.jar

# Superseded builds leave untagged images behind; drop the dangling stand-ins.
docker image prune -f --filter label=kq.stand-in=true >/dev/null
echo "images ready in $(elapsed "$total_start")"
