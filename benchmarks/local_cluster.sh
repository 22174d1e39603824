#!/usr/bin/env bash
# Times the local provider: cold build (empty Go and binary caches, in a temporary
# folder), warm start (from everything stopped to CoreDNS answering), and down; and
# measures the idle cluster's memory. Prints medians of RUNS runs and the machine.
#   benchmarks/local_cluster.sh [--cold] [RUNS]      (root; the cluster ends up running)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
local_dir="$repo/k8s/local"
. "$local_dir/lib.sh"
cold=false; [ "${1:-}" = --cold ] && { cold=true; shift; }
runs=${1:-3}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", b - a}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(go version | cut -d' ' -f3)"
if $cold; then
  tmp=$(mktemp -d)
  echo "cold build: $(FIRSTAPP_CACHE=$tmp/cache GOMODCACHE=$tmp/gomod GOCACHE=$tmp/gocache \
                      seconds bash "$local_dir/build.sh") s (1 run: downloads every module and compiles everything)"
  chmod -R u+w "$tmp" && rm -rf "$tmp"
fi
ups=() downs=()
for _ in $(seq "$runs"); do
  downs+=("$(seconds bash "$local_dir/down.sh")")
  ups+=("$(seconds bash "$local_dir/up.sh")")
done
echo "warm start (stopped -> node Ready, CoreDNS answering): median $(printf '%s\n' "${ups[@]}" | median) s of ${ups[*]}"
echo "down: median $(printf '%s\n' "${downs[@]}" | median) s of ${downs[*]}"
sleep 30  # let the fresh cluster settle before measuring memory
rss=0
for name in "${COMPONENTS[@]}"; do
  pid=$(pid_of "$name") && rss=$((rss + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")))
done
pods=$(($(cat /sys/fs/cgroup/memory/kubepods/memory.usage_in_bytes 2>/dev/null || echo 0) / 1024))
echo "idle memory: components $((rss / 1024)) MiB RSS + pods (cgroup kubepods) $((pods / 1024)) MiB = $(((rss + pods) / 1024)) MiB"
