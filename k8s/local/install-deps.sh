#!/usr/bin/env bash
# Installs the Debian packages the local cluster runs on, when they are missing:
# containerd and runc (container runtime), the CNI plugins (pod network), iptables,
# conntrack and ipset (kube-proxy), openssl (certificates), curl (health checks).
set -euo pipefail
needed=()
for pair in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
            iptables:iptables conntrack:conntrack ipset:ipset openssl:openssl curl:curl ip:iproute2; do
  command=${pair%%:*} package=${pair#*:}
  if [[ $command == /* ]]; then [ -x "$command" ] || needed+=("$package")
  else command -v "$command" >/dev/null || needed+=("$package"); fi
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing Debian packages: ${needed[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi
