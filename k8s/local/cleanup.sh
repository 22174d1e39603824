#!/usr/bin/env bash
# Clears what a local cluster whose processes died (or were stopped) leaves behind, and
# only that, so Docker, kind or another cluster on this machine keep working:
#   - pod containers whose shims our containerd (its own socket) started;
#   - mounts under our own directories ($RUN, $FIRSTAPP_STATE/{kubelet,containerd}):
#     volumes, rootfs overlays, the kubelet's bind mount of its own directory, and the
#     pods' network namespaces, which containerd keeps under $RUN
#     (netns_mounts_under_state_dir), never in /run/netns;
#   - kube-proxy's rules (its own --cleanup, when our kube-proxy ran), then the rules
#     and chains that are ours (iptables-ours.py: our CNI network's comment, our bridge,
#     our pod and Service CIDRs, chains named after our sandboxes, the kubelet's chains,
#     and, when our kube-router ran, its KUBE-ROUTER-*, KUBE-NWPLCY-*, KUBE-POD-FW-*
#     chains), then kube-router's ipsets (KUBE-SRC-*, KUBE-DST-*);
#   - up.sh's routing rule (Service addresses unreachable from the pods' bridge);
#   - the bridge firstapp0, the cached CNI results of our pods (/var/lib/cni/results/
#     firstapp-* and cni-loopback-<our sandbox>-*), our IP allocations, pid files;
#   - route_localnet, set back to what it was before up.sh (see below).
# The cluster's data (etcd, images, certificates) is kept. Exits 1 naming every leftover
# it could not remove (and the log to read, where there is one).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

problems=()
problem() { problems+=("$*"); }

# Pod containers: their shims were started by our containerd and outlive it. Killing a
# container's first process (the shim's child) ends its whole PID namespace.
shims=$(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_ADDRESS( |$)")
for shim in $shims; do
  pkill -KILL -P "$shim"
  kill -KILL "$shim" 2>/dev/null
done
for shim in $shims; do
  for _ in $(seq 25); do running "$shim" || break; sleep 0.2; done
  ! running "$shim" ||
    problem "a pod's containerd-shim (pid $shim) still runs after SIGKILL; containerd's log is $LOGS/containerd.log"
done

# The ingress controller's haproxy, a daemon, outlives it: ours is the one whose config
# is under our state directory.
our_haproxy="(^|/)haproxy .*$FIRSTAPP_STATE/ingress/fs/"
pkill -TERM -f "$our_haproxy"
for _ in $(seq 25); do pgrep -f "$our_haproxy" >/dev/null || break; sleep 0.2; done
pkill -KILL -f "$our_haproxy"
if pgrep -f "$our_haproxy" >/dev/null; then
  problem "the ingress controller's haproxy still runs after SIGKILL; its log is $LOGS/haproxy-ingress.log"
else
  rm -f "$FIRSTAPP_STATE/ingress/fs/var/run/haproxy/"*  # its pid file and sockets
fi

# Mounts on and under our directories, latest first: a mount hidden under a later one (say,
# $RUN bind-mounted onto itself while pods ran) comes off once that one is gone. Mount
# points in mountinfo escape spaces as \040. The kubelet bind-mounts its own directory onto
# itself (to share mounts with pods); a file system mounted there by the admin is kept.
our_mounts() {
  awk -v run="$RUN" -v kubelet="$FIRSTAPP_STATE/kubelet" -v containerd="$FIRSTAPP_STATE/containerd" '
    $5 == run || index($5, run "/") == 1 || index($5, kubelet "/") == 1 || index($5, containerd "/") == 1 ||
    ($5 == kubelet && $4 ~ /\/kubelet$/) { print $5 }' /proc/self/mountinfo | tac
}
for _ in 1 2 3; do
  mounts=$(our_mounts)
  [ -n "$mounts" ] || break
  while read -r mount; do
    mount=$(printf '%b' "$mount")
    umount "$mount" 2>/dev/null || umount -l "$mount" 2>/dev/null
  done <<<"$mounts"
done
while read -r mount; do
  [ -z "$mount" ] || problem "still mounted: $(printf '%b' "$mount") (umount failed)"
done < <(our_mounts)
netns_dir="$RUN/containerd/io.containerd.grpc.v1.cri/netns"
if [ -d "$netns_dir" ]; then
  for netns in "$netns_dir"/*; do
    [ ! -e "$netns" ] || rm -f "$netns" 2>/dev/null || problem "a pod's network namespace is left: $netns"
  done
fi

# Our pods' sandboxes (ids), known to our containerd or to the CNI results of our network:
# the CNI plugins name their chains and cached results after them.
results=/var/lib/cni/results
sandboxes=()
for path in "$results/$CNI_NETWORK"-* "$FIRSTAPP_STATE/containerd/root/io.containerd.grpc.v1.cri/sandboxes"/* \
            "$RUN/containerd/io.containerd.grpc.v1.cri/sandboxes"/*; do
  name=${path##*/}
  id=${name#"$CNI_NETWORK"-}
  id=${id:0:64}
  [[ $id =~ ^[0-9a-f]{64}$ ]] && sandboxes+=("$id")
done

# route_localnet back to its value before up.sh (which kept it in RUN/route_localnet.before),
# while KUBE-FIREWALL, the rule that guards loopback while it is 1, is still in place.
localnet=/proc/sys/net/ipv4/conf/all/route_localnet
if [ -f "$RUN/route_localnet.before" ]; then
  before=$(<"$RUN/route_localnet.before")
  if ! [[ $before =~ ^[0-9]+$ ]]; then
    problem "$RUN/route_localnet.before holds no value ('$before'); set net.ipv4.conf.all.route_localnet yourself, then remove that file"
  elif [ "$(<"$localnet")" = "$before" ] || output=$(sysctl -qw net.ipv4.conf.all.route_localnet="$before" 2>&1); then
    rm -f "$RUN/route_localnet.before"
  else
    problem "net.ipv4.conf.all.route_localnet could not be set back to $before: $output"
  fi
fi

# Network: kube-proxy's rules, by kube-proxy itself (its output goes to its log), when our
# kube-proxy ran since the last cleanup (its pid file says so); then what else is ours.
if [ -f "$RUN/kube-proxy.pid" ] && [ -x "$BIN/kube-proxy" ]; then
  if { printf '\n==== %s kube-proxy --cleanup (cleanup.sh)\n' "$(date -Is)"; "$BIN/kube-proxy" --cleanup 2>&1; } \
      >>"$LOGS/kube-proxy.log"; then
    rm -f "$RUN/kube-proxy.pid" "$RUN/kube-proxy.cmdline"
  else
    problem "kube-proxy --cleanup failed; its output is at the end of $LOGS/kube-proxy.log"
  fi
fi
# kube-router's chains and ipsets, when our kube-router ran since the last cleanup (its pid
# file says so; another kube-router on this machine, k3s's say, keeps its own). Its own
# --cleanup-config cannot be used: it panics on a kernel without IPVS.
kube_router_chains=()
if [ -f "$RUN/kube-router.pid" ]; then
  kube_router_chains=(--chain-prefix KUBE-ROUTER- --chain-prefix KUBE-NWPLCY- --chain-prefix KUBE-POD-FW-)
fi
if ! output=$(python3 "$here/iptables-ours.py" "${kube_router_chains[@]}" \
                "$BRIDGE" "$CNI_NETWORK" "$POD_CIDR,$SERVICE_CIDR" "${sandboxes[@]}" 2>&1); then
  problem "iptables rules or chains of the cluster are left:"$'\n'"$output"
elif [ ${#kube_router_chains[@]} -gt 0 ]; then
  # the sets can go once no rule uses them
  for set in $(ipset list -n 2>/dev/null | grep -E '^KUBE-(SRC|DST)-'); do
    output=$(ipset destroy "$set" 2>&1) || problem "kube-router's ipset $set could not be destroyed: $output"
  done
  [ ${#problems[@]} -gt 0 ] || rm -f "$RUN/kube-router.pid" "$RUN/kube-router.cmdline"
fi
while ip rule show iif "$BRIDGE" to "$SERVICE_CIDR" | grep -q unreachable; do  # up.sh's, for kube-router
  output=$(ip rule del iif "$BRIDGE" to "$SERVICE_CIDR" unreachable 2>&1) ||
    { problem "the routing rule for Services without endpoints could not be deleted: $output"; break; }
done
if ip link show "$BRIDGE" >/dev/null 2>&1; then
  output=$(ip link delete "$BRIDGE" 2>&1) || problem "the pod bridge $BRIDGE could not be deleted: $output"
fi
# libcni caches each attachment's result as <network>-<sandbox>-<interface>: our network's,
# and containerd's own "cni-loopback" network's for our sandboxes.
rm -f "$results/$CNI_NETWORK"-* || problem "cached CNI results $results/$CNI_NETWORK-* are left"
for id in "${sandboxes[@]}"; do
  rm -f "$results/cni-loopback-$id"-* || problem "cached CNI results $results/cni-loopback-$id-* are left"
done
rm -rf "$FIRSTAPP_STATE/cni/ipam" || problem "pod IP allocations in $FIRSTAPP_STATE/cni/ipam are left"
for name in "${COMPONENTS[@]}"; do
  [ "$name" = kube-proxy ] && [ -f "$RUN/kube-proxy.pid" ] && continue  # its --cleanup is still due
  [ "$name" = kube-router ] && [ -f "$RUN/kube-router.pid" ] && continue  # its cleanup is still due
  rm -f "$RUN/$name.pid" "$RUN/$name.cmdline"
done

if [ ${#problems[@]} -gt 0 ]; then
  for message in "${problems[@]}"; do log "cleanup: $message"; done
  exit 1
fi
exit 0
