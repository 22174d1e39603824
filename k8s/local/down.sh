#!/usr/bin/env bash
# Stops every process of the local cluster and removes its leftovers (cleanup.sh), and
# nothing of anyone else's. Data (etcd, images, certificates) stays, so the next up.sh is
# a warm start. Running it on a stopped cluster is fine. A pid file's process is signalled
# only while it is still the component (lib.sh's is_component: root, and the command line
# up.sh started), never a process that got a stale pid. Exits 1 naming each component
# that would not stop (and its log) and each leftover that could not be removed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

problems=()

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
    pid=${pids[$name]}
    for _ in $(seq $((grace * 5))); do running "$pid" || break; sleep 0.2; done
    if running "$pid" && is_component "$name" "$pid"; then
      kill -KILL "$pid" 2>/dev/null
      log "killed $name (still running ${grace}s after SIGTERM)"
      for _ in $(seq 25); do running "$pid" || break; sleep 0.2; done
    fi
    if running "$pid" && is_component "$name" "$pid"; then
      problems+=("$name (pid $pid) still runs after SIGKILL; its log is $LOGS/$name.log")
    else
      stopped+=("$name")
    fi
  done
  [ ${#stopped[@]} -eq 0 ] || log "stopped ${stopped[*]}"
}
stop_together 4 haproxy-ingress kube-router kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver
stop_together 10 etcd containerd
if [ ${#problems[@]} -gt 0 ]; then
  # Clearing the network under a running kubelet or containerd would only race with them.
  for message in "${problems[@]}"; do log "ERROR: $message"; done
  die "local cluster not stopped: the components above still run"
fi
"$here/cleanup.sh" || die "local cluster stopped, but leftovers above could not be removed"
log "local cluster stopped (data kept in $FIRSTAPP_STATE)"
