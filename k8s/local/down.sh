#!/usr/bin/env bash
# Stops every process of the local cluster and removes its network leftovers. Data
# (etcd, images, certificates) stays, so the next up.sh is a warm start.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Stop the Kubernetes components together, then what they stand on (etcd,
# containerd); whatever still runs GRACE seconds after SIGTERM is killed (the API
# server keeps serving open watches for a long time: nothing worth waiting for here).
stop_together() {
  local grace=$1 name pid stopped=(); shift
  declare -A pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then pids[$name]=$pid; kill -TERM "$pid" 2>/dev/null; fi
  done
  for name in "${!pids[@]}"; do
    for _ in $(seq $((grace * 5))); do kill -0 "${pids[$name]}" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "${pids[$name]}" 2>/dev/null && log "killed $name (still running ${grace}s after SIGTERM)"
    stopped+=("$name")
  done
  [ ${#stopped[@]} -eq 0 ] || log "stopped ${stopped[*]}"
}
stop_together 4 kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver
stop_together 10 etcd containerd
"$here/cleanup.sh"
log "local cluster stopped (data kept in $FIRSTAPP_STATE)"
