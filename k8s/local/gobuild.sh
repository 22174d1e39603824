# Building Go binaries from the Go module proxy into the cache, one group per wrapper
# module of gomod/ (see build.sh); sourced by build.sh and k8s/kind/offline/build.sh,
# after lib.sh, never run.
# shellcheck shell=bash
gomod_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/gomod"
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
  local src="$gomod_dir/$name"
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

# module_dir WRAPPER MODULE[@VERSION]: where the Go module cache holds MODULE, as required by
# gomod/WRAPPER (downloaded, and checked against its go.sum, if need be).
module_dir() {
  (cd "$gomod_dir/$1" && go mod download -json "$2" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
}
