#!/usr/bin/env bash
# Installs the Debian packages the tests themselves need (scripts/test-packages.list:
# debootstrap for tests/install/, chromium and chromium-driver for tests/browser/) when
# missing, with the course's own installer; prints nothing when nothing is missing.
# Where it cannot install (not root, not Debian) it says what is missing and carries
# on: the install test then fails saying why, and the browser check says it did not run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
install=("$repo/k8s/local/install-deps.sh" "$repo/scripts/test-packages.list")
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  exec "${install[@]}"
fi
if ! message=$("${install[@]}" 2>&1); then
  echo "==> the tests' Debian packages are not all here, and installing needs root on Debian:" >&2
  echo "    $message" >&2
  echo "    (tests/install fails without them; \`./run-tests -m 'not install'\` leaves it out)" >&2
fi
