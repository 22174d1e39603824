#!/usr/bin/env bash
# Brings up the local single-node Kubernetes from upstream components, unattended:
#   install Debian packages -> build binaries (cached) -> clear a dead run's leftovers
#   -> containerd -> etcd -> kube-apiserver -> controller-manager, scheduler
#   -> system images -> kubelet (node Ready) -> kube-proxy -> kube-router (NetworkPolicy)
#   -> CoreDNS -> HAProxy Ingress (http://127.0.0.1:80) -> kubeconfig.
# A running, healthy cluster returns at once. Each component logs to $LOGS/NAME.log;
# a component that does not come up stops the script with its name and log, and what
# this run started is stopped again (down.sh), so no half-started cluster is left.
set -Eeuo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"

[ "$(uname -s)" = Linux ] || die "the local provider needs Linux; use --provider kind"
[ "$(id -u)" = 0 ] || die "the local provider runs kubelet and containerd and needs root; use --provider kind"

healthy() {
  local name
  for name in "${COMPONENTS[@]}"; do pid_of "$name" >/dev/null || return 1; done
  admin_kubectl get --raw /readyz >/dev/null 2>&1 || return 1
  admin_kubectl get crd httproutes.gateway.networking.k8s.io >/dev/null 2>&1 || return 1
  [ "$(admin_kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] &&
  python3 "$here/dns-query.py" "$DNS_IP" kubernetes.default.svc.cluster.local >/dev/null 2>&1
}

# start NAME COMMAND...: runs a component in its own session, logging to LOGS/NAME.log. Its
# pid goes to RUN/NAME.pid, and the pid and command line to RUN/NAME.cmdline (what down.sh
# checks before it signals the pid: see is_component in lib.sh).
start() {
  local name=$1; shift
  pid_of "$name" >/dev/null && return 0
  printf '\n==== %s starting %s\n' "$(date -Is)" "$name" >>"$LOGS/$name.log"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  printf '%s\0' $! "$@" >"$RUN/$name.cmdline"
}

# started NAME: the process start() ran for NAME still runs (it may not have reached its
# own program yet: setsid runs it).
started() { local pid; pid=$(<"$RUN/$1.pid") && running "$pid"; }

# wait_for NAME SECONDS CHECK...: waits until CHECK succeeds; fails naming the log.
wait_for() {
  local name=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! started "$name"; then
      tail -n 15 "$LOGS/$name.log" >&2 || true
      die "$name exited while starting; its log is $LOGS/$name.log"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 15 "$LOGS/$name.log" >&2 || true
      die "$name not healthy after ${seconds}s; its log is $LOGS/$name.log"
    fi
    sleep 0.5
  done
  log "$name is up"
}

# step NAME [LOG]: what up.sh does now, and the log that tells about it, for the message
# a failure ends with.
step() { current_step=$1; current_log=${2:-}; }
step "checking whether the cluster already runs"
started_components=false
failed_command=""
trap 'failed_command="$BASH_COMMAND (up.sh line $LINENO)"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
on_exit() {
  local status=$?
  [ "$status" -eq 0 ] && return
  trap - ERR
  if $started_components; then
    log "stopping what this run started (down.sh)"
    "$here/down.sh" || log "down.sh could not stop everything; see above"
  fi
  [ -z "$failed_command" ] || log "the failing command: $failed_command"
  log "ERROR: local cluster not started: failed at step '$current_step'${current_log:+; see $current_log}"
  exit "$status"
}
trap on_exit EXIT

started=$SECONDS
if healthy; then
  log "local cluster already running (context firstapp-local)"
  exit 0
fi

step "installing Debian packages (install-deps.sh)"
"$here/install-deps.sh"
step "building the binaries (build.sh)"
"$here/build.sh"
mkdir -p "$LOGS" "$RUN" "$FIRSTAPP_STATE"/{etcd,kubelet,cni/net.d,containerd,images}
step "clearing what an earlier run left (down.sh)"
if ! output=$("$here/down.sh" 2>&1); then
  printf '%s\n' "$output" >&2
  die "what an earlier run left could not be cleared (see above); remove it, then run up again"
fi
started_components=true   # from here on, a failure stops what this run started

step "making certificates (pki.sh)"
ip=$(node_ip)
"$here/pki.sh" "$FIRSTAPP_STATE" "$NODE_NAME" "$ip"
pki="$FIRSTAPP_STATE/pki"

# Kernel settings a node needs: forwarding, and bridged pod traffic through iptables.
step "kernel settings (modprobe, sysctl)"
modprobe br_netfilter 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1

# ---- containerd (Debian's), on its own socket so it never meets another containerd. Its
# pods' network namespaces live under its state dir in $RUN, not in the host's /run/netns.
step containerd "$LOGS/containerd.log"
cat >"$FIRSTAPP_STATE/containerd/config.toml" <<TOML
version = 2
root = "$FIRSTAPP_STATE/containerd/root"
state = "$RUN/containerd"
[grpc]
  address = "$CONTAINERD_ADDRESS"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "firstapp.local/pause:1.0"
  disable_apparmor = true
  # This machine may forbid lowering oom_score_adj (no CAP_SYS_RESOURCE in the VM);
  # keep containers at or above containerd's own value instead of failing to start them.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$FIRSTAPP_STATE/cni/net.d"
TOML
cat >"$FIRSTAPP_STATE/cni/net.d/10-$CNI_NETWORK.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$FIRSTAPP_STATE/cni/ipam",
              "ranges": [[{"subnet": "$NODE_POD_SUBNET"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
start containerd containerd --config "$FIRSTAPP_STATE/containerd/config.toml"
wait_for containerd 30 ctr version

# ---- etcd, on loopback only, and only for clients with a certificate of its own CA (the
# API server's): any local user could otherwise read the cluster's secrets or write a
# privileged pod. Its peer port is loopback-only and certificate-checked as well (a single
# member has no peers, but raft messages on an open port would be writes). The plain-HTTP
# listener on 2381 serves /health, /readyz, /livez and /metrics (counts and sizes, no keys
# or values), for the health checks.
step etcd "$LOGS/etcd.log"
start etcd "$BIN/etcd" --name firstapp --data-dir "$FIRSTAPP_STATE/etcd" \
  --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
  --cert-file "$pki/etcd-server.crt" --key-file "$pki/etcd-server.key" \
  --trusted-ca-file "$pki/etcd-ca.crt" --client-cert-auth \
  --listen-peer-urls https://127.0.0.1:2380 --initial-advertise-peer-urls https://127.0.0.1:2380 \
  --initial-cluster firstapp=https://127.0.0.1:2380 \
  --peer-cert-file "$pki/etcd-server.crt" --peer-key-file "$pki/etcd-server.key" \
  --peer-trusted-ca-file "$pki/etcd-ca.crt" --peer-client-cert-auth \
  --listen-metrics-urls http://127.0.0.1:2381
wait_for etcd 60 curl -fsS http://127.0.0.1:2381/health
# A data dir from before etcd's peer port took TLS still records the member's peer URL as
# http://; the member list is made to say what etcd serves.
etcd_api() {
  curl -fsS --cacert "$pki/etcd-ca.crt" --cert "$pki/apiserver-etcd-client.crt" --key "$pki/apiserver-etcd-client.key" \
    -X POST "https://127.0.0.1:2379/v3/cluster/$1" -d "$2"
}
peer_update=$(etcd_api member/list '{}' | python3 -c 'import json, sys
for member in json.load(sys.stdin)["members"]:
    if member.get("peerURLs") != ["https://127.0.0.1:2380"]:
        print(json.dumps({"ID": member["ID"], "peerURLs": ["https://127.0.0.1:2380"]}))')
[ -z "$peer_update" ] || etcd_api member/update "$peer_update" >/dev/null

# ---- control plane.
step kube-apiserver "$LOGS/kube-apiserver.log"
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers=https://127.0.0.1:2379 --etcd-cafile="$pki/etcd-ca.crt" \
  --etcd-certfile="$pki/apiserver-etcd-client.crt" --etcd-keyfile="$pki/apiserver-etcd-client.key" \
  --advertise-address="$ip" --secure-port=6443 \
  --service-cluster-ip-range="$SERVICE_CIDR" --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$pki/apiserver-kubelet-client.key" --kubelet-certificate-authority="$pki/ca.crt" \
  --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key"
wait_for kube-apiserver 90 admin_kubectl get --raw /readyz

step "kube-controller-manager, kube-scheduler" "$LOGS/kube-controller-manager.log, $LOGS/kube-scheduler.log"
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$FIRSTAPP_STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$FIRSTAPP_STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$FIRSTAPP_STATE/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$POD_CIDR"
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$FIRSTAPP_STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig="$FIRSTAPP_STATE/scheduler.kubeconfig" \
  --authorization-kubeconfig="$FIRSTAPP_STATE/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false
wait_for kube-controller-manager 60 curl -fsSk https://127.0.0.1:10257/healthz
wait_for kube-scheduler 60 curl -fsSk https://127.0.0.1:10259/healthz

# ---- the cluster's own images (pause, CoreDNS), built offline and imported.
step "system images (python3 -m firstapp.images system)" "$LOGS/containerd.log"
PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}" python3 -m firstapp.images system "$BIN" "$FIRSTAPP_STATE/images" |
  while read -r line; do log "$line"; done

# ---- kubelet (cgroup v1 hosts are allowed; image GC never removes images we cannot pull again).
step kubelet "$LOGS/kubelet.log"
cat >"$FIRSTAPP_STATE/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_ADDRESS
clusterDomain: cluster.local
clusterDNS: ["$DNS_IP"]
tlsCertFile: "$pki/kubelet-serving.crt"
tlsPrivateKeyFile: "$pki/kubelet-serving.key"
healthzBindAddress: 127.0.0.1
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
resolvConf: /etc/resolv.conf
serializeImagePulls: false
YAML
start kubelet "$BIN/kubelet" --config="$FIRSTAPP_STATE/kubelet/config.yaml" \
  --kubeconfig="$FIRSTAPP_STATE/kubelet.kubeconfig" --root-dir="$FIRSTAPP_STATE/kubelet" \
  --hostname-override="$NODE_NAME" --node-ip="$ip"
wait_for kubelet 90 sh -c "[ \"\$(\"$BIN/kubectl\" --kubeconfig \"$FIRSTAPP_STATE/admin.kubeconfig\" get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"

# ---- kube-proxy (iptables mode; leaves conntrack sysctls as the host has them).
step kube-proxy "$LOGS/kube-proxy.log"
cat >"$FIRSTAPP_STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$FIRSTAPP_STATE/kube-proxy.kubeconfig"}
mode: iptables
clusterCIDR: "$POD_CIDR"
hostnameOverride: "$NODE_NAME"
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
YAML
# Node ports on 127.0.0.1 need route_localnet=1 (kube-proxy sets it too). With it, the
# kernel would route packets from other hosts and pods to 127.0.0.0/8 (etcd, the local
# health ports) unless KUBE-FIREWALL drops them: that guard (kube-proxy's own rule, which
# it then keeps) goes in first. The value before is kept for down.sh (cleanup.sh), which
# sets it back; in $RUN, a tmpfs, which a reboot empties as it resets the setting.
localnet=/proc/sys/net/ipv4/conf/all/route_localnet
if [ -e "$localnet" ]; then
  [ -s "$RUN/route_localnet.before" ] || echo "$(<"$localnet")" >"$RUN/route_localnet.before"
  guard=(! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections"
         -m conntrack ! --ctstate "RELATED,ESTABLISHED,DNAT" -j DROP)
  iptables -w -L KUBE-FIREWALL -n >/dev/null 2>&1 || iptables -w -N KUBE-FIREWALL
  iptables -w -C KUBE-FIREWALL "${guard[@]}" 2>/dev/null || iptables -w -A KUBE-FIREWALL "${guard[@]}"
  for chain in INPUT OUTPUT; do
    iptables -w -C "$chain" -j KUBE-FIREWALL 2>/dev/null || iptables -w -I "$chain" -j KUBE-FIREWALL
  done
  sysctl -qw net.ipv4.conf.all.route_localnet=1
fi
start kube-proxy "$BIN/kube-proxy" --config="$FIRSTAPP_STATE/kube-proxy.yaml"
wait_for kube-proxy 60 curl -fsS http://127.0.0.1:10256/healthz

# ---- kube-router's firewall controller alone, the NetworkPolicy enforcer: it turns each
# policy into iptables chains (KUBE-ROUTER-*, KUBE-NWPLCY-*, KUBE-POD-FW-*) and ipsets
# (KUBE-SRC-*, KUBE-DST-*) that filter the pods' traffic on the bridge. No routing (one
# node), no service proxy (kube-proxy's job). Traffic from the node itself stays allowed,
# as kube-router allows it (the kubelet's probes need it). Health on :20244.
step kube-router "$LOGS/kube-router.log"
admin_kubectl apply -f "$here/kube-router.yaml" >/dev/null
start kube-router "$BIN/kube-router" --kubeconfig="$FIRSTAPP_STATE/kube-router.kubeconfig" \
  --run-firewall=true --run-router=false --run-service-proxy=false \
  --hostname-override="$NODE_NAME" --service-cluster-ip-range="$SERVICE_CIDR" --health-port=20244
wait_for kube-router 60 curl -fsS http://127.0.0.1:20244/healthz
# kube-router ACCEPTs the pods' traffic in FORWARD ahead of kube-proxy's rules, and with
# it a packet to a Service that has no ready endpoint, which kube-proxy would REJECT: that
# packet would leave by the default route (and meet whatever answers out there). A Service
# address that PREROUTING did not translate to a pod has no endpoint; from the pods'
# bridge it is unreachable, and the client learns so at once.
ip rule show iif "$BRIDGE" to "$SERVICE_CIDR" | grep -q unreachable ||
  ip rule add iif "$BRIDGE" to "$SERVICE_CIDR" unreachable priority 1000

# ---- CoreDNS behind the kube-dns Service.
step coredns "$LOGS/kubelet.log, $LOGS/containerd.log"
admin_kubectl apply -f "$here/coredns.yaml" >/dev/null
if ! admin_kubectl -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null; then
  admin_kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide >&2 || true
  admin_kubectl -n kube-system get events --field-selector involvedObject.kind=Pod >&2 || true
  die "CoreDNS did not become ready; see the events above and $LOGS/kubelet.log, $LOGS/containerd.log"
fi
wait_for kubelet 60 python3 "$here/dns-query.py" "$DNS_IP" kubernetes.default.svc.cluster.local
log "coredns is up and answers at $DNS_IP"

# ---- HAProxy Ingress, the ingress controller, on the host: it watches the Ingresses of
# class `haproxy` and runs Debian's haproxy (master-worker, its child) with the config it
# renders under $FIRSTAPP_STATE/ingress, serving http://127.0.0.1:80 (so
# http://firstapp.localhost/). It proxies to pod IPs, which the host reaches directly.
# Its settings are the ConfigMap kube-system/haproxy-ingress (ingress.yaml). It reads its
# templates from ./rootfs (build.sh caches them) and its Lua from its config folder.
step haproxy-ingress "$LOGS/haproxy-ingress.log"
admin_kubectl apply -f "$here/ingress.yaml" >/dev/null
ingress="$FIRSTAPP_STATE/ingress"
# a stopped haproxy's pid file and admin socket would be taken for a live one's (the
# reload script signals that pid and asks that socket for its listeners)
rm -rf "$ingress/fs/var/run/haproxy"
mkdir -p "$ingress/fs/etc/haproxy" "$ingress/fs/var/run/haproxy" "$ingress/fs/var/lib/haproxy"
ln -sfn "$BIN/haproxy-ingress-rootfs" "$ingress/rootfs"
rm -rf "$ingress/fs/etc/haproxy/lua" && cp -R "$ingress/rootfs/etc/lua" "$ingress/fs/etc/haproxy/lua"
# v0.14.7 puts haproxy's admin socket at /run/haproxy/admin.sock, where Debian's own
# haproxy service keeps its socket: the controller runs in a mount namespace of its own
# where /run/haproxy is our folder. (unshare and sh exec into the controller: one pid,
# whose command line is the controller's, as down.sh checks.)
controller=("$BIN/haproxy-ingress" --kubeconfig="$FIRSTAPP_STATE/ingress.kubeconfig"
  --local-filesystem-prefix="$ingress/fs" --configmap=kube-system/haproxy-ingress
  --ingress-class=haproxy --watch-gateway=false --update-status=false --healthz-port=10254)
mkdir -p /run/haproxy
# GODEBUG: its health handler's path has a space, which Go 1.22's ServeMux reads as a method.
(cd "$ingress" && start haproxy-ingress env GODEBUG=httpmuxgo121=1 unshare --mount --propagation private -- \
  sh -c 'mount --bind "$0" /run/haproxy && exec "$@"' "$ingress/fs/var/run/haproxy" "${controller[@]}")
printf '%s\0' "$(<"$RUN/haproxy-ingress.pid")" "${controller[@]}" >"$RUN/haproxy-ingress.cmdline"
wait_for haproxy-ingress 60 curl -fsS http://127.0.0.1:10254/healthz
wait_for haproxy-ingress 60 curl -sS -o /dev/null http://127.0.0.1:80/

# ---- the Gateway API's CRDs (build.sh copies them from its module): a learner's
# HTTPRoute can be applied and is graded statically; no controller here serves it.
# Server-side: the HTTPRoute CRD is too large for kubectl's last-applied annotation.
step "installing the Gateway API CRDs"
admin_kubectl apply --server-side --force-conflicts --field-manager=firstapp -f "$BIN/gateway-api-crds/" >/dev/null
admin_kubectl wait --for=condition=Established --timeout=60s \
  crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
  crd/httproutes.gateway.networking.k8s.io >/dev/null

# ---- the user's kubeconfig: context firstapp-local, made current.
step "writing the kubeconfig"
target=${KUBECONFIG:-$HOME/.kube/config}
target=${target%%:*}
mkdir -p "$(dirname "$target")"
kc() { "$BIN/kubectl" --kubeconfig "$target" config "$@" >/dev/null; }
kc set-cluster firstapp-local --server=https://127.0.0.1:6443 --certificate-authority="$pki/ca.crt" --embed-certs=true
kc set-credentials firstapp-local-admin --client-certificate="$pki/admin.crt" --client-key="$pki/admin.key" --embed-certs=true
kc set-context firstapp-local --cluster=firstapp-local --user=firstapp-local-admin --namespace=default
kc use-context firstapp-local
log "local cluster ready in $((SECONDS - started)) s; kubeconfig context firstapp-local in $target"
