#!/usr/bin/env bash
# Builds, without a registry, a kind node image for the course's Kubernetes version and
# what proving the kind provider needs around it, then prints the node image's name:
#   - kind, crictl, kubeadm and local-path-provisioner, with `go build` from the Go
#     module proxy (versions.env);
#   - kind's base image, from a minimal Debian and Debian's packages, with kind's own
#     base files (from its module);
#   - the images the node runs (control plane, etcd, CoreDNS, pause, kube-proxy) from
#     the local provider's Go-built binaries, tagged as kubeadm asks for them, and
#     kube-router (the NetworkPolicy enforcer) and a stand-in for the ingress
#     controller's published image (k8s/kind/ingress.yaml names it);
#   - the node image: kind's base, kubeadm/kubelet/kubectl, /kind/version, the default
#     CNI manifest and kind's own storage manifest (from its module, naming our
#     provisioner and helper images), and those images imported into its containerd;
#   - stand-ins for python:3.11-slim and redis:7.0, which apps/*/Dockerfile start FROM.
# Needs CI's Docker daemon (docker.sh start). Every image is tagged by a hash of its
# inputs and skipped when the daemon has it: a warm run takes seconds.
set -euo pipefail
offline=$(cd "$(dirname "$0")" && pwd)
local_dir="$offline/../../local"
. "$local_dir/versions.env"
. "$local_dir/lib.sh"
. "$local_dir/gobuild.sh"
. "$offline/docker.sh"
export DOCKER_BUILDKIT=0  # Debian's Docker has no buildx; the classic builder does all this
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
MINBASE=firstapp.local/debian-minbase:$DEBIAN_SUITE

timed() { # timed NAME COMMAND...: runs a named step and says how long it took
  local name=$1 started=$SECONDS; shift
  log "$name ..."
  "$@"
  log "$name: done in $((SECONDS - started)) s"
}
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
docker_build() { # docker_build TAG DOCKERFILE CONTEXT [ARGS...]
  docker build -q --network host -t "$1" -f "$2" "${@:4}" "$3" >/dev/null 2> >(grep -v -i -e deprecat -e buildkit -e '^ *environment-variable' -e '^$' >&2)
}

build_binaries() {
  build_group kind "" sigs.k8s.io/kind
  build_group cri-tools "" sigs.k8s.io/cri-tools/cmd/crictl
  build_group kubeadm "$(kube_version_ldflags)" k8s.io/kubernetes/cmd/kubeadm
  build_group local-path-provisioner "" github.com/rancher/local-path-provisioner
  "$local_dir/build.sh"  # the Kubernetes binaries the node runs (cached)
}

debian_minbase() {
  have_image "$MINBASE" && return
  local root
  root=$(mktemp -d "$FIRSTAPP_CACHE/debootstrap.XXXXXX")
  /usr/sbin/debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$root.log" 2>&1 ||
    die "debootstrap failed; see $root.log"
  tar -C "$root" -c . | docker import - "$MINBASE" >/dev/null
  rm -rf "$root" "$root.log"
}

# static_image TAG BINARY [ENTRYPOINT]: an image of one static binary in /usr/local/bin
static_image() {
  local dir
  dir=$(mktemp -d)
  mkdir -p "$dir/usr/local/bin" && cp -L "$2" "$dir/usr/local/bin/"
  local changes=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin')
  [ -z "${3:-}" ] || changes+=(--change "ENTRYPOINT [\"$3\"]")
  tar -C "$dir" -c . | docker import "${changes[@]}" - "$1" >/dev/null
  rm -rf "$dir"
}

kubeadm_image() { # kubeadm_image NAME: the image kubeadm runs for NAME (kube-apiserver, etcd, ...)
  "$BIN/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null | grep "/$1:"
}

node_images() { # builds the images the node runs; their tags go to `tags`
  local dir
  dir=$(mktemp -d)
  cp -L "$BIN/kube-proxy" "$BIN/kube-router" "$dir/"
  docker_build "$TOOLS_IMAGE" "$offline/tools.Dockerfile" "$dir" && tags+=("$TOOLS_IMAGE")
  docker tag "$TOOLS_IMAGE" "$(kubeadm_image kube-proxy)" && tags+=("$(kubeadm_image kube-proxy)")
  rm -rf "$dir"
  local name
  for name in kube-apiserver kube-controller-manager kube-scheduler etcd; do
    static_image "$(kubeadm_image "$name")" "$BIN/$name" && tags+=("$(kubeadm_image "$name")")
  done
  static_image "$(kubeadm_image coredns)" "$BIN/coredns" /usr/local/bin/coredns && tags+=("$(kubeadm_image coredns)")
  static_image "$(kubeadm_image pause)" "$BIN/pause" /usr/local/bin/pause && tags+=("$(kubeadm_image pause)")
  ingress_controller && tags+=("$INGRESS_IMAGE")
  static_image "$PROVISIONER_IMAGE" "$BIN/local-path-provisioner" && tags+=("$PROVISIONER_IMAGE")
  docker tag "$MINBASE" "$HELPER_IMAGE" && tags+=("$HELPER_IMAGE")  # the helper pod runs sh, mkdir, rm
}

# kind's default storage manifest (local-path-provisioner, StorageClass `standard`), as
# its node-image builder writes it, from the Go source of the kind module built here,
# with our provisioner and helper images in place of kind's.
storage_manifest() {
  python3 - "$(module_dir kind "sigs.k8s.io/kind@$KIND_VERSION")/pkg/build/nodeimage/const_storage.go" \
    "$PROVISIONER_IMAGE" "$HELPER_IMAGE" <<'PY'
import sys
source, provisioner, helper = sys.argv[1:]
text = open(source).read().split("const defaultStorageManifest = `", 1)[1]
text = text.replace("` + storageProvisionerImage + `", provisioner).replace("` + storageHelperImage + `", helper)
print(text.split("`", 1)[0].strip())
PY
}

ingress_controller() { # the stand-in for the image k8s/kind/ingress.yaml runs
  local dir
  dir=$(mktemp -d)
  cp -RL "$BIN/haproxy-ingress-rootfs" "$dir/rootfs" && rm -f "$dir/rootfs/Dockerfile" "$dir/rootfs/.complete"
  cp -L "$BIN/haproxy-ingress" "$dir/"
  docker_build "$INGRESS_IMAGE" "$offline/haproxy-ingress.Dockerfile" "$dir"
  rm -rf "$dir"
}

kind_base() {
  local dir files
  dir=$(mktemp -d)
  files="$(module_dir kind "sigs.k8s.io/kind@$KIND_VERSION")/images/base/files"
  cp -R "$files" "$dir/files" && chmod -R u+w "$dir/files"
  cp -L "$BIN/crictl" "$dir/"
  docker_build firstapp.local/kind-base:bookworm "$offline/base.Dockerfile" "$dir"
  rm -rf "$dir"
}

node_image() {
  local dir images_tar container
  dir=$(mktemp -d "$FIRSTAPP_CACHE/kind-node.XXXXXX")
  cp -L "$BIN/kubeadm" "$BIN/kubelet" "$BIN/kubectl" "$dir/"
  echo "$KUBERNETES_VERSION" >"$dir/version"
  sed "s#KIND_TOOLS_IMAGE#$TOOLS_IMAGE#" "$offline/default-cni.yaml" >"$dir/default-cni.yaml"
  storage_manifest >"$dir/default-storage.yaml"
  docker_build "$NODE_IMAGE-stage" "$offline/node.Dockerfile" "$dir" --build-arg "PAUSE_IMAGE=$(kubeadm_image pause)"
  tags=() && node_images
  mkdir -p "$dir/import" && docker save -o "$dir/import/images.tar" "${tags[@]}"
  # kind's own builder does the same: containerd runs in the node, imports, and the
  # container is committed (the archive is mounted, so it adds nothing to the image).
  container=firstapp-kind-node-build
  docker rm -f "$container" >/dev/null 2>&1 || true
  docker run -d --name "$container" --privileged --entrypoint sleep -v "$dir/import:/kind/import:ro" \
    "$NODE_IMAGE-stage" infinity >/dev/null
  docker exec "$container" sh -euc '
    containerd >/var/log/containerd-build.log 2>&1 & containerd=$!
    for i in $(seq 30); do ctr version >/dev/null 2>&1 && break; sleep 1; done
    ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests /kind/import/images.tar >/dev/null
    ctr --namespace=k8s.io images ls -q | grep "^import-" | xargs -r ctr --namespace=k8s.io images rm >/dev/null
    kill $containerd; wait $containerd || true; rm -f /var/log/containerd-build.log'
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
    "$container" "$NODE_IMAGE" >/dev/null
  docker rm -f "$container" >/dev/null && docker rmi "$NODE_IMAGE-stage" >/dev/null
  rm -rf "$dir"
}

stand_ins() {
  have_image python:3.11-slim || docker_build python:3.11-slim "$offline/python.Dockerfile" "$offline"
  have_image redis:7.0 || docker_build redis:7.0 "$offline/redis.Dockerfile" "$offline"
}

timed "binaries (kind $KIND_VERSION, crictl $CRI_TOOLS_VERSION, kubeadm $KUBERNETES_VERSION, local-path-provisioner $LOCAL_PATH_PROVISIONER_VERSION)" build_binaries >&2
INGRESS_IMAGE=$(sed -n 's/^ *image: *//p' "$offline/../ingress.yaml")
key=$( (cat "$offline"/*.Dockerfile "$offline"/*.yaml "$offline/build.sh" "$local_dir/versions.env"
        echo "$INGRESS_IMAGE"
        cd "$BIN" && cat kind kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler \
          kube-proxy kube-router haproxy-ingress etcd coredns pause crictl local-path-provisioner
        find -L haproxy-ingress-rootfs -type f | sort | xargs cat) | sha256sum | cut -c1-12)
NODE_IMAGE="firstapp.local/kind-node:$KUBERNETES_VERSION-$key"
TOOLS_IMAGE="firstapp.local/kind-tools:$KUBERNETES_VERSION-$key"
PROVISIONER_IMAGE="firstapp.local/local-path-provisioner:$LOCAL_PATH_PROVISIONER_VERSION-$key"
HELPER_IMAGE="firstapp.local/local-path-helper:$key"
timed "Debian $DEBIAN_SUITE (minbase)" debian_minbase
if ! have_image "$NODE_IMAGE"; then
  timed "kind's base image, from Debian's packages" kind_base
  timed "node image $NODE_IMAGE" node_image
fi
timed "stand-ins for python:3.11-slim and redis:7.0" stand_ins
echo "$NODE_IMAGE"
