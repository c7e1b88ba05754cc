#!/usr/bin/env bash
# Installs Debian 13's Docker engine if no engine answers, and starts dockerd.
# Idempotent: when `docker info` already answers with a new enough engine this returns at once.
#
# Why Debian 13's engine on these Debian 12 machines: the harness starts containers through
# testcontainers-rs, whose Docker client (bollard) needs API 1.44 or newer for what it sends;
# bookworm's docker.io is 20.10 (API 1.41). trixie's docker.io 26.1.5 (API 1.45) installs here
# from a `trixie` apt source pinned at priority 100, so that only the three packages asked for
# come from trixie (docker.io, docker-cli, docker-buildx) and everything else stays bookworm's
# (containerd and runc included).
#
# dockerd runs with --bridge=none --iptables=false: the containers use host networking and
# talk on 127.0.0.1 only, and the engine must not create a bridge on a private range (no
# traffic to private-range addresses is allowed on the CI machines).
set -euo pipefail

log=${KQ_DOCKERD_LOG:-/var/log/kq-dockerd.log}
wait_secs=${KQ_DOCKERD_WAIT_SECS:-60}
# The oldest engine API the harness is known to work with (26.1's; see README: Containers).
min_api=1.44

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

answers() { docker info >/dev/null 2>&1; }
api_version() { docker version --format '{{.Server.APIVersion}}' 2>/dev/null || true; }
# True when $1 >= $2 for dotted versions.
at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

if command -v docker >/dev/null 2>&1 && answers; then
  api=$(api_version)
  if at_least "$api" "$min_api"; then
    echo "docker engine: already running ($(docker version --format '{{.Server.Version}}') API $api)"
    exit 0
  fi
  echo "error: the running engine speaks API $api; the harness needs $min_api or newer" >&2
  echo "hint: stop it and rerun this script to install Debian 13's docker.io 26.1" >&2
  exit 1
fi

installed_version() { dpkg-query -W -f '${Version}' docker.io 2>/dev/null || true; }
if [ -z "$(installed_version)" ] || ! at_least "$(installed_version)" 26; then
  . /etc/os-release
  if [ "${VERSION_CODENAME:-}" = bookworm ]; then
    echo "docker engine: adding Debian 13 (trixie) at apt priority 100 for docker.io 26.1"
    $SUDO tee /etc/apt/sources.list.d/kq-trixie.sources >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # Priority 100: nothing comes from trixie unless asked for by name (`pkg/trixie`).
    $SUDO tee /etc/apt/preferences.d/kq-trixie >/dev/null <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
    target=docker.io/trixie
  else
    target=docker.io
  fi
  echo "docker engine: installing $target"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$target"
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  echo "docker engine: dockerd is running but does not answer yet; waiting for it"
else
  echo "docker engine: starting dockerd (log: $log)"
  # setsid + nohup: the daemon must outlive this script and the CI step that ran it, and not
  # get the terminal's Ctrl-C. It is the machine's engine, not part of any one test run.
  $SUDO setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false \
    --ip-masq=false >>"$log" 2>&1 </dev/null &
fi

# Bounded wait: poll `docker info`, the same check the harness's `auto` backend makes.
deadline=$(( $(date +%s) + wait_secs ))
until answers; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "error: dockerd did not answer \`docker info\` within ${wait_secs}s; last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    echo "error: dockerd exited; last lines of $log:" >&2
    tail -n 40 "$log" >&2 || true
    exit 1
  fi
  # Not synchronisation, just a pause between polls of the bounded wait above.
  sleep 0.2
done
echo "docker engine: ready ($(docker version --format '{{.Server.Version}}') API $(api_version))"
