#!/usr/bin/env bash
# Times `firstapp up --no-lab --with-app` from nothing running (cluster stopped, the
# app's namespace deleted) to the app answering, and the offline image builds, cold
# (no cached archives, images removed from containerd) and warm. Medians of RUNS runs.
#   benchmarks/app_up.sh [RUNS]     (root, local provider; run from a checkout after ./run-tests)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/k8s/local/lib.sh"
runs=${1:-3}
firstapp="$repo/.venv/bin/firstapp"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", b - a}'; }
build_images() { CONTAINERD_ADDRESS="$CONTAINERD_ADDRESS" PYTHONPATH="$repo" "$repo/.venv/bin/python" -m firstapp.images apps "$FIRSTAPP_STATE/images"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
"$firstapp" up --no-lab >/dev/null 2>&1
cold=() warm=()
for _ in $(seq "$runs"); do
  rm -f "$FIRSTAPP_STATE"/images/firstapp_*
  for tier in web api db; do ctr -n k8s.io images rm "docker.io/firstapp/$tier:1.0" >/dev/null 2>&1 || true; done
  cold+=("$(seconds build_images)")
  warm+=("$(seconds build_images)")
done
echo "image build + import, cold: median $(printf '%s\n' "${cold[@]}" | median) s of ${cold[*]}"
echo "image build + import, warm (nothing to do): median $(printf '%s\n' "${warm[@]}" | median) s of ${warm[*]}"
ups=()
for _ in $(seq "$runs"); do
  "$BIN/kubectl" delete namespace firstapp --wait=true >/dev/null 2>&1 || true
  bash "$repo/k8s/local/down.sh" >/dev/null 2>&1
  ups+=("$(seconds "$firstapp" up --no-lab --with-app)")
  curl -fsS http://localhost:30080/chain >/dev/null
done
echo "firstapp up --no-lab --with-app, nothing running -> app answering: median $(printf '%s\n' "${ups[@]}" | median) s of ${ups[*]}"
