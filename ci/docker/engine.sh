#!/usr/bin/env bash
# Installs Debian's Docker engine if missing and starts dockerd when no engine answers.
# Idempotent: when `docker info` already answers this returns at once.
#
# dockerd runs with --bridge=none --iptables=false: the containers use host networking and
# talk on 127.0.0.1 only, and the engine must not create a bridge on a private range (no
# traffic to private-range addresses is allowed on the CI machines).
set -euo pipefail

log=${KQ_DOCKERD_LOG:-/var/log/kq-dockerd.log}
wait_secs=${KQ_DOCKERD_WAIT_SECS:-60}

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && answers; then
  echo "docker engine: already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v containerd >/dev/null 2>&1; then
  echo "docker engine: installing docker.io"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker.io
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
echo "docker engine: ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
