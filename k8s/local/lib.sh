# Shared settings and helpers of the local provider's scripts; sourced, never run.
# shellcheck shell=bash
FIRSTAPP_CACHE=${FIRSTAPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-first-app}
FIRSTAPP_STATE=${FIRSTAPP_STATE:-/var/lib/k8s-first-app}
BIN="$FIRSTAPP_CACHE/bin"
LOGS="$FIRSTAPP_STATE/logs"
RUN=/run/k8s-first-app
export CONTAINERD_ADDRESS="$RUN/containerd.sock"

NODE_NAME=firstapp-local
POD_CIDR=10.244.0.0/16
NODE_POD_SUBNET=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16
DNS_IP=10.96.0.10
BRIDGE=firstapp0
CNI_NETWORK=firstapp
# Start order; down stops them in reverse.
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-router haproxy-ingress)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pid_of() { # prints the pid of a running component, fails when it is not running
  local file="$RUN/$1.pid" pid
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  is_component "$1" "$pid" && echo "$pid"
}

# is_component NAME PID: the process PID is this cluster's component NAME, so the only one
# to signal. A pid file that outlived its process may name another program that got the
# pid since (a user's, another cluster's etcd or Docker's containerd): the process must
# run as root, and its command line be the one up.sh started it with (NAME.cmdline, which
# up.sh's start writes: the pid, then the command line, NUL-separated). A NAME.cmdline of
# another pid (say, left by an older up.sh's run) is not this process's: then, as without
# one, its program must be named NAME.
is_component() {
  local name=$1 pid=$2 key value uid=-1 argv=() want=()
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
  while read -r key value _; do
    [ "$key" = Uid: ] && uid=$value && break
  done 2>/dev/null <"/proc/$pid/status" || return 1
  [ "$uid" = 0 ] || return 1
  mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || return 1
  [ ${#argv[@]} -gt 0 ] || return 1  # a zombie, or a kernel thread
  [ ! -f "$RUN/$name.cmdline" ] || mapfile -d '' -t want 2>/dev/null <"$RUN/$name.cmdline" || want=()
  if [ ${#want[@]} -gt 0 ] && [ "${want[0]}" = "$pid" ]; then
    want=("${want[@]:1}")
    [ "${argv[*]@Q}" = "${want[*]@Q}" ]
  else
    [ "${argv[0]##*/}" = "$name" ]
  fi
}

admin_kubectl() { "$BIN/kubectl" --kubeconfig "$FIRSTAPP_STATE/admin.kubeconfig" "$@"; }

node_ip() { # the address other hosts and pods reach this node at
  local ip
  ip=$(ip -4 route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n1)
  [ -n "$ip" ] || ip=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -n1)
  [ -n "$ip" ] || die "this machine has no IPv4 address besides loopback; the node needs one"
  echo "$ip"
}

running() { # running PID: the process exists and is not a zombie waiting for its parent
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]
}
