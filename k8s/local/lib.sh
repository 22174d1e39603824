# Shared settings of the local provider's scripts; sourced, never run.
FIRSTAPP_CACHE=${FIRSTAPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-first-app}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
