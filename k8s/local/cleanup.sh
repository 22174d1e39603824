#!/usr/bin/env bash
# Clears what a local cluster whose processes died (or were stopped) leaves behind:
# pod containers still running, mounts and network namespaces of pods, kube-proxy's
# and the CNI plugins' iptables rules, the pod bridge and its IP allocations, pid
# files. The cluster's data (etcd, images, certificates) is kept.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Pod containers: their shims were started by our containerd and outlive it. Killing
# a container's first process (the shim's child) ends its whole PID namespace.
for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_ADDRESS" 2>/dev/null); do
  pkill -KILL -P "$shim" 2>/dev/null
  kill -KILL "$shim" 2>/dev/null
done

# Mounts of pods (service-account token volumes, sandboxes' netns, rootfs overlays).
grep -E " ($FIRSTAPP_STATE/(kubelet|containerd)|$RUN|/run/netns/cni-)" /proc/mounts | awk '{print $2}' |
  sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null; done
for netns in /run/netns/cni-*; do [ -e "$netns" ] && rm -f "$netns"; done

# Network: kube-proxy's rules (its own cleanup mode), then every chain and rule that
# kube-proxy, the kubelet or the CNI plugins made (they all name theirs KUBE-* or CNI-*).
if [ -x "$BIN/kube-proxy" ]; then "$BIN/kube-proxy" --cleanup >/dev/null 2>&1; fi
for table in nat filter mangle raw; do
  rules=$(iptables-save -t "$table" 2>/dev/null) || continue
  grep -q -E -- "(KUBE-|CNI-)" <<<"$rules" || continue
  grep -v -E -- "(KUBE-|CNI-)" <<<"$rules" | iptables-restore -T "$table"
done
ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"
rm -rf "$FIRSTAPP_STATE/cni/ipam" /var/lib/cni/results 2>/dev/null
rm -f "$RUN"/*.pid
exit 0
