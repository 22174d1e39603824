#!/usr/bin/env bash
# docker.sh start|stop: the Docker daemon CI proves the kind provider with (Debian's
# docker.io), apart from any Docker of the machine's own: its own socket, data root
# (in the course's cache, so images built once stay), exec root and pid file, no docker0
# bridge and no iptables rules of its own (the local provider's rules and the FORWARD
# policy stay as they are; kind's port mappings go through docker-proxy). Its default
# runtime is runc-without-sys-resource (see there). Source it for DOCKER_HOST.
# shellcheck shell=bash
set -euo pipefail
offline=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$offline/../../local/lib.sh"
DOCKER_RUN="$RUN/docker"
export DOCKER_HOST="unix://$DOCKER_RUN/docker.sock"

docker_start() {
  if docker info >/dev/null 2>&1; then return; fi
  local data=${FIRSTAPP_DOCKER_DATA:-$FIRSTAPP_CACHE/docker}  # another (empty) one: benchmarks/kind.sh --cold
  [ -x /usr/sbin/dockerd ] || die "dockerd is not installed (Debian package docker.io; scripts/test-deps.sh installs it)"
  mkdir -p "$DOCKER_RUN" "$data" "$FIRSTAPP_STATE/logs"
  log "starting Docker (CI's own daemon, $DOCKER_HOST, data in $data)"
  setsid /usr/sbin/dockerd --host "$DOCKER_HOST" --data-root "$data" --exec-root "$DOCKER_RUN/exec" \
    --pidfile "$DOCKER_RUN/dockerd.pid" --bridge none --iptables=false --ip-masq=false \
    --add-runtime "ci=$offline/runc-without-sys-resource" --default-runtime ci \
    >"$FIRSTAPP_STATE/logs/dockerd.log" 2>&1 </dev/null &
  local waited=0
  until docker info >/dev/null 2>&1; do
    sleep 1; waited=$((waited + 1))
    [ $waited -lt 60 ] || die "Docker did not answer within 60 s; see $FIRSTAPP_STATE/logs/dockerd.log"
  done
}

docker_stop() {
  local pid
  pid=$(cat "$DOCKER_RUN/dockerd.pid" 2>/dev/null) || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 0
  log "stopping Docker (CI's own daemon)"
  kill "$pid"
  local waited=0
  while [ -e "/proc/$pid" ] && [ $waited -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) docker_start ;;
    stop) docker_stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
  esac
fi
