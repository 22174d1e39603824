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

export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
go_build=(go build -trimpath -tags=notest,grpcnotrace)
mkdir -p "$FIRSTAPP_CACHE/build" "$FIRSTAPP_CACHE/bin"

kube_version_ldflags() {
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  local flags="" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# [OUTPUT=FILE] build_group NAME LDFLAGS PACKAGE... : builds PACKAGEs of gomod/NAME unless
# cached; each binary is named after its package's folder, or FILE (one package).
build_group() {
  local name=$1 ldflags=$2 output=${OUTPUT:-}; shift 2
  local src="$here/gomod/$name"
  local key
  key=$( (echo "$GOFLAGS $CGO_ENABLED ${go_build[*]} -ldflags=-s -w $ldflags $* ${output:+-o $output}"; go version;
          find "$src" -type f | sort | xargs cat) | sha256sum | cut -c1-16)
  local out="$FIRSTAPP_CACHE/build/$name-$key"
  if [ ! -f "$out/.complete" ]; then
    log "building $name ($*) into $out"
    local started=$SECONDS
    rm -rf "$out.partial"
    mkdir -p "$out.partial"
    (cd "$src" && "${go_build[@]}" -ldflags="-s -w $ldflags" -o "$out.partial/$output" "$@")
    touch "$out.partial/.complete"
    rm -rf "$out" && mv "$out.partial" "$out"
    log "built $name in $((SECONDS - started)) s"
  fi
  local bin
  for bin in "$out"/*; do ln -sfn "$bin" "$FIRSTAPP_CACHE/bin/$(basename "$bin")"; done
}

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
  module=$(cd "$here/gomod/haproxy-ingress" &&
           go mod download -json "github.com/jcmoraisjr/haproxy-ingress@$HAPROXY_INGRESS_VERSION" |
           python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
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
  module=$(cd "$here/gomod/gateway-api" && go mod download -json sigs.k8s.io/gateway-api |
           python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$crds" "$crds.partial" && mkdir -p "$crds.partial"
  for kind in gatewayclasses gateways httproutes grpcroutes referencegrants; do
    cp "$module/config/crd/standard/gateway.networking.k8s.io_$kind.yaml" "$crds.partial/"
  done
  chmod -R u+w "$crds.partial" && touch "$crds.partial/.complete" && mv "$crds.partial" "$crds"
fi
ln -sfn "$crds" "$FIRSTAPP_CACHE/bin/gateway-api-crds"
log "binaries ready in $FIRSTAPP_CACHE/bin"
