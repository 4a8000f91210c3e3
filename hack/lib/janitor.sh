#!/usr/bin/env bash
# janitor.sh PARENT_PID DIR
# Watches the process that started a test bed. When it dies (even by SIGKILL), or when this janitor
# gets SIGTERM, every server PID listed in DIR/pids is stopped (TERM, then KILL) and DIR is removed,
# so no test-bed server and no temporary directory outlives a test run.
set -u
parent="$1"
dir="$2"
trap '' INT # Ctrl-C reaches the whole process group; the janitor must outlive it to clean up.

cleanup() {
  local pids=()
  [[ -f "$dir/pids" ]] && mapfile -t pids <"$dir/pids"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$dir"
  exit 0
}
trap cleanup TERM HUP

while kill -0 "$parent" 2>/dev/null; do
  sleep 0.5 &
  wait $!
done
cleanup
