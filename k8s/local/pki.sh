#!/usr/bin/env bash
# Generates the cluster's certificates and kubeconfigs with openssl, once: a CA, the
# API server's serving and kubelet-client certificates, a client certificate per
# component (its name and group are what RBAC and the Node authorizer see), the
# kubelet's serving certificate and the service-account signing key.
# Usage: pki.sh STATE_DIR NODE_NAME NODE_IP
# A failing openssl stops it with the name of the certificate and openssl's own error.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
state=$1 node=$2 node_ip=$3
pki="$state/pki"
mkdir -p "$pki" && chmod 700 "$pki"
cd "$pki"

# ssl NAME ARGS...: runs openssl for the certificate or key NAME. Its output (progress
# dots on success) is shown only when it fails, with NAME.
ssl() {
  local name=$1 output; shift
  if ! output=$(openssl "$@" 2>&1 </dev/null); then
    printf '%s\n' "$output" >&2
    die "pki.sh: openssl $1 failed for $name in $pki; openssl's error is above"
  fi
}

if [ ! -f ca.crt ]; then
  ssl ca req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=firstapp-local-ca"
fi
if [ ! -f sa.pub ]; then
  ssl sa genrsa -out sa.key 2048
  ssl sa rsa -in sa.key -pubout -out sa.pub
fi

# cert NAME SUBJECT [SANS]: a key and a CA-signed certificate, unless present.
cert() {
  local name=$1 subject=$2 sans=${3:-}
  [ -f "$name.crt" ] && return 0
  ssl "$name" req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subject"
  local ext="$name.ext"
  if [ -n "$sans" ]; then
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$sans" >"$ext"
  else
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$ext"
  fi
  ssl "$name" x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" \
    -days 3650 -extfile "$ext"
  rm -f "$name.csr" "$ext"
}

cert apiserver "/CN=kube-apiserver" \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$node,IP:127.0.0.1,IP:10.96.0.1,IP:$node_ip"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert admin "/O=system:masters/CN=firstapp-admin"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
cert kube-proxy "/CN=system:kube-proxy"
cert kubelet "/O=system:nodes/CN=system:node:$node"
cert kubelet-serving "/CN=$node" "DNS:$node,DNS:localhost,IP:127.0.0.1,IP:$node_ip"

# kubeconfig NAME USER: a kubeconfig for the component, pointing at the local API server.
kubeconfig() {
  local name=$1 user=$2
  cat >"$state/$name.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: firstapp-local
  cluster:
    certificate-authority: $pki/ca.crt
    server: https://127.0.0.1:6443
users:
- name: $user
  user:
    client-certificate: $pki/$name.crt
    client-key: $pki/$name.key
contexts:
- name: firstapp-local
  context: {cluster: firstapp-local, user: $user}
current-context: firstapp-local
KC
}
for component in admin controller-manager scheduler kube-proxy kubelet; do
  kubeconfig "$component" "$component"
done
