#!/usr/bin/env bash
# Stops every process of the local cluster and removes its network leftovers. Data
# (etcd, images, certificates) stays, so the next up.sh is a warm start.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

stop_component() {
  local name=$1 pid
  pid=$(pid_of "$name") || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null
  log "stopped $name"
}
for (( i=${#COMPONENTS[@]}-1; i>=0; i-- )); do stop_component "${COMPONENTS[$i]}"; done
"$here/cleanup.sh"
log "local cluster stopped (data kept in $FIRSTAPP_STATE)"
