#!/usr/bin/env bash
# Installs the Debian packages the course needs on the host, as declared in
# debian-packages.list next to this script (or in the LIST files given), when missing.
#   Usage: install-deps.sh [LIST...]
# A package counts as present only when dpkg reports it installed: a command of the same
# name from elsewhere (/usr/local/bin, a cloud SDK, pyenv) does not count, because the
# course reads the package's own files (the image build copies /usr/lib/python3.11 and
# Redis from the host). Missing packages are installed in one apt-get run, without
# recommends and without questions; nothing is printed when nothing is missing. Then
# every file the list names must exist, or the script says which package lacks it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$here/debian-packages.list"

die() { echo "install-deps: ERROR: $*" >&2; exit 1; }

packages=() files=()
declare -A owner=()
for list in "$@"; do
  [ -r "$list" ] || die "cannot read the package list $list"
  while read -r -a words; do
    [ ${#words[@]} -gt 0 ] || continue
    package=${words[0]}
    case $package in '#'*) continue ;; esac
    packages+=("$package")
    for word in "${words[@]:1}"; do
      case $word in
        /*) files+=("$word"); owner[$word]=$package ;;
        base) ;;
        '#'*) break ;;
        *) die "$list: '$word' after package $package is neither a file (/...) nor 'base'" ;;
      esac
    done
  done <"$list"
done

command -v dpkg-query >/dev/null ||
  die "this is not a Debian-like system (no dpkg); install the equivalents of: ${packages[*]}"

# not_installed PACKAGE...: prints those dpkg does not report installed (one dpkg-query).
not_installed() {
  local -A state=()
  local package status
  while read -r package status; do
    if [ "$status" = installed ]; then state[$package]=1; fi
  done \
    < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null)
  for package; do [ -n "${state[$package]:-}" ] || echo "$package"; done
}
mapfile -t missing < <(not_installed "${packages[@]}")

if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})"
  echo "install-deps: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  output=$(mktemp)
  trap 'rm -f "$output"' EXIT
  if ! apt-get update -qq >"$output" 2>&1; then
    cat "$output" >&2
    die "apt-get update failed, so ${missing[*]} cannot be installed; check the sources in /etc/apt/sources.list(.d) and the network"
  fi
  if ! apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >"$output" 2>&1; then
    tail -n 30 "$output" >&2
    unavailable=()
    for package in "${missing[@]}"; do
      candidate=$(apt-cache policy "$package" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
      [ -n "$candidate" ] && [ "$candidate" != "(none)" ] || unavailable+=("$package")
    done
    [ ${#unavailable[@]} -eq 0 ] || die "apt has no package ${unavailable[*]} (is this Debian 12 with the main component?)"
    die "apt-get install failed for ${missing[*]} (its output is above)"
  fi
  mapfile -t still < <(not_installed "${missing[@]}")
  [ ${#still[@]} -eq 0 ] || die "apt-get finished but dpkg does not report ${still[*]} installed"
fi

absent=() broken=()
for file in "${files[@]}"; do
  [ -e "$file" ] && continue
  absent+=("$file (${owner[$file]})")
  [[ " ${broken[*]} " == *" ${owner[$file]} "* ]] || broken+=("${owner[$file]}")
done
[ ${#absent[@]} -eq 0 ] ||
  die "installed, yet missing: ${absent[*]}; reinstall with: apt-get install --reinstall ${broken[*]}"
exit 0
