#!/usr/bin/env bash
# Builds the local cluster's binaries with `go build` from the Go module proxy, at the
# versions pinned in versions.env, into a cache outside the work tree:
#   $FIRSTAPP_CACHE/build/<group>-<hash>/   one folder per wrapper module and inputs
#   $FIRSTAPP_CACHE/bin/                    symlinks to the binaries of the current pins
# A group is keyed by its own inputs only: its wrapper module's files (go.mod/go.sum pin
# the versions of versions.env), the go build flags and ldflags, the packages and the Go
# version. A group whose inputs are unchanged is not rebuilt, and adding a group (or
# pinning another group's version) does not rebuild the others; a warm run takes well
# under a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
. "$here/lib.sh"

. "$here/gobuild.sh"

build_group pause "" .
build_group etcd "" .
build_group coredns "" github.com/coredns/coredns
build_group kubernetes "$(kube_version_ldflags)" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl
build_group kube-router "" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
OUTPUT=haproxy-ingress build_group haproxy-ingress "-X github.com/jcmoraisjr/haproxy-ingress/pkg/version.RELEASE=$HAPROXY_INGRESS_VERSION" \
  github.com/jcmoraisjr/haproxy-ingress/pkg
# HAProxy Ingress reads its haproxy.cfg templates, Lua services and reload script from
# ./rootfs (files of its module, not of the binary): they go into the cache too, from the
# module the build used, and up.sh runs the controller where rootfs/ is.
rootfs="$FIRSTAPP_CACHE/build/haproxy-ingress-rootfs-$HAPROXY_INGRESS_VERSION"
if [ ! -f "$rootfs/.complete" ]; then
  module=$(module_dir haproxy-ingress "github.com/jcmoraisjr/haproxy-ingress@$HAPROXY_INGRESS_VERSION")
  rm -rf "$rootfs" "$rootfs.partial"
  cp -R "$module/rootfs" "$rootfs.partial" && chmod -R u+w "$rootfs.partial"
  chmod +x "$rootfs.partial"/*.sh  # a module zip keeps no file modes
  touch "$rootfs.partial/.complete" && mv "$rootfs.partial" "$rootfs"
fi
ln -sfn "$rootfs" "$FIRSTAPP_CACHE/bin/haproxy-ingress-rootfs"
# The Gateway API's standard CRDs, from its module (go.sum in gomod/gateway-api pins its
# hash); up.sh installs them.
crds="$FIRSTAPP_CACHE/build/gateway-api-crds-$GATEWAY_API_VERSION"
if [ ! -f "$crds/.complete" ]; then
  module=$(module_dir gateway-api sigs.k8s.io/gateway-api)
  rm -rf "$crds" "$crds.partial" && mkdir -p "$crds.partial"
  for kind in gatewayclasses gateways httproutes grpcroutes referencegrants; do
    cp "$module/config/crd/standard/gateway.networking.k8s.io_$kind.yaml" "$crds.partial/"
  done
  chmod -R u+w "$crds.partial" && touch "$crds.partial/.complete" && mv "$crds.partial" "$crds"
fi
ln -sfn "$crds" "$FIRSTAPP_CACHE/bin/gateway-api-crds"
log "binaries ready in $FIRSTAPP_CACHE/bin"
