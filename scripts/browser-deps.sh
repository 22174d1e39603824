#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the widgets' browser check when
# they are missing and this is a Debian-like machine where we are root; elsewhere the
# browser test says why it did not run.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing chromium and chromium-driver for the browser check" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
