#!/usr/bin/env bash
# Times the kind provider as CI proves it here (tests/kind/run.sh): the offline node
# image's build, cold (an empty Docker data root: every image built; the Go-built
# binaries cached) and warm (everything cached), and what a learner waits for: `firstapp
# up --provider kind --with-app` from no cluster to the app answering, then `firstapp
# down --provider kind`. Takes the local cluster down (kind maps 127.0.0.1:80 and
# :30080) and leaves Docker stopped. Prints each run, medians and the machine.
#   benchmarks/kind.sh [--cold] [RUNS]      (root)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/scripts/python-env.sh"
. "$repo/k8s/kind/offline/docker.sh"
export DOCKER_BUILDKIT=0
cold=false; [ "${1:-}" = --cold ] && { cold=true; shift; }
runs=${1:-3}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f\n", b - a}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
firstapp down --provider local >/dev/null 2>&1
if $cold; then
  empty=$(mktemp -d)
  FIRSTAPP_DOCKER_DATA=$empty docker_start
  t0=$(now); "$repo/k8s/kind/offline/build.sh" >/dev/null 2>&1
  echo "node image, cold (empty Docker data root, Go binaries cached): $(since "$t0") s"
  docker_stop && rm -rf "$empty"
fi
docker_start
trap docker_stop EXIT
builds=() ups=() downs=()
for _ in $(seq "$runs"); do
  t0=$(now); image=$("$repo/k8s/kind/offline/build.sh" 2>/dev/null); builds+=("$(since "$t0")")
  t0=$(now); FIRSTAPP_KIND_NODE_IMAGE=$image firstapp up --provider kind --with-app --no-lab >/dev/null 2>&1
  ups+=("$(since "$t0")")
  t0=$(now); firstapp down --provider kind >/dev/null 2>&1; downs+=("$(since "$t0")")
  echo "run: node image (warm) ${builds[-1]} s, up to the app answering ${ups[-1]} s, down ${downs[-1]} s"
done
echo "node image, warm: median $(printf '%s\n' "${builds[@]}" | median) s of ${builds[*]}"
echo "firstapp up --provider kind --with-app (no cluster -> app answering at :30080): median $(printf '%s\n' "${ups[@]}" | median) s of ${ups[*]}"
echo "firstapp down --provider kind: median $(printf '%s\n' "${downs[@]}" | median) s of ${downs[*]}"
