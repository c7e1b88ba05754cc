#!/usr/bin/env bash
# What a fresh machine needs before `cargo test`: a JDK (the services are JVMs), Maven (it
# fetches the pinned service jars from Maven Central on first use), and a C toolchain with make,
# which rdkafka uses to build the bundled librdkafka. Installs only what is missing.
set -euo pipefail

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need java openjdk-17-jre-headless
need mvn maven
need cc build-essential
need make make
need pkg-config pkg-config
need curl curl
need rustc rustup-unavailable
if [ ! -e /usr/include/zlib.h ]; then missing+=(zlib1g-dev); fi

if printf '%s\n' "${missing[@]:-}" | grep -q rustup-unavailable; then
  echo "Rust is missing: install it with rustup (https://rustup.rs) or Debian's cargo package" >&2
  if command -v apt-get >/dev/null; then missing=("${missing[@]/rustup-unavailable/cargo}"); else exit 1; fi
fi

if [ "${#missing[@]}" -gt 0 ] && [ -n "${missing[0]:-}" ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

java -version 2>&1 | head -1
mvn -v 2>/dev/null | head -1
cargo --version
