#!/usr/bin/env bash
# What a fresh machine needs before `cargo test`: a JDK (the services are JVMs), Maven (it
# fetches the pinned service jars from Maven Central on first use), and a C toolchain with make,
# which rdkafka uses to build the bundled librdkafka (against OpenSSL: libssl-dev). Installs only
# what is missing, from Debian's packages. Rust itself is expected (rustup); Debian's rustc is too old for the crates.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is missing: install Rust with rustup (https://rustup.rs), then rerun" >&2
  exit 1
fi

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need java openjdk-17-jre-headless
need mvn maven
need cc build-essential
need make make
need pkg-config pkg-config
need curl curl
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
# rdkafka's `ssl` feature (SASL_SSL, SCRAM) builds librdkafka against the system OpenSSL.
[ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
# Network-fault cases run Toxiproxy v2.12.0, built once with `go install` and cached
# (harness/src/services/toxiproxy/install.rs).
need go golang-go
# The CDC cases unpack PostgreSQL's server binaries from a .txz (harness/src/services/postgres/).
need xz xz-utils

if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# sed, not head: head exits after one line and the writer's SIGPIPE would fail the pipeline.
java -version 2>&1 | sed -n 1p
mvn -v 2>/dev/null | sed -n 1p
cargo --version
# Toxiproxy 2.12's go.mod says `go 1.23.0`: Go 1.21 and later fetch that toolchain themselves,
# older ones cannot build it (Debian 12's golang-go is 1.19; Debian 13's is 1.24).
go_minor=$(go version 2>/dev/null | sed -n 's/.* go1\.\([0-9]*\).*/\1/p')
if [ -z "$go_minor" ] || [ "$go_minor" -lt 21 ]; then
  echo "error: $(go version 2>&1): Toxiproxy needs Go 1.21 or later; install one from https://go.dev/dl" >&2
  echo "       (or set KQ_TOXIPROXY to a toxiproxy-server binary), then rerun" >&2
  exit 1
fi
go version
