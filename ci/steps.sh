# Sourced by .ci/run and ci/extended: every step is timed; the times are printed as each step
# ends and again, all together, when the run ends (passed or not), so a slow step shows up in
# the run's own output.
start=$(date +%s)
timings=()
step() {
  local name=$1 t0=$SECONDS
  shift
  echo "=== ci step: $name"
  "$@"
  timings+=("$(printf '%6ss  %s' $((SECONDS - t0)) "$name")")
  echo "=== ci step: $name: $((SECONDS - t0))s"
}
print_timings() {
  local rc=$?
  echo "ci step times (exit $rc):"
  [ "${#timings[@]}" -gt 0 ] && printf '%s\n' "${timings[@]}"
  echo "$(printf '%6ss' $(( $(date +%s) - start )))  in all"
}
trap print_timings EXIT

# Nothing the tests started may outlive them.
no_leftover_processes() {
  if pgrep -af 'io\.questdb|kafka\.Kafka|QuorumPeerMain|ConnectStandalone|JsonConverterOracle|TransformsOracle|toxiproxy-server|target/(debug|release)/sink '; then
    echo "error: service JVMs, Toxiproxy or sink processes outlived the tests (listed above)" >&2
    return 1
  fi
}
