# Sourced by run-course and run-tests: makes .venv (the project's Python environment)
# with the project installed in it, reinstalling only when pyproject.toml changed.
# shellcheck shell=bash
venv="$repo/.venv"
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed as python3" >&2; exit 2
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv" && python3 -m venv "$venv"
    else
      echo "python3 cannot make a virtual environment; install your system's python3-venv" >&2; exit 2
    fi
  fi
fi
stamp="$venv/.installed-$(cat "$repo/pyproject.toml" "$repo/scripts/python-env.sh" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "==> installing the course's Python packages into .venv" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip
  # compat mode: the checkout goes on sys.path through a .pth line, so every command
  # starts without setuptools' import hook (which costs each `firstapp` run ~0.1 s).
  # Setuptools has deprecated that mode; where it is gone, the default mode works too.
  "$venv/bin/python" -m pip install -q -e "$repo[test]" --config-settings editable_mode=compat 2>/dev/null ||
    "$venv/bin/python" -m pip install -q -e "$repo[test]"
  rm -f "$venv"/.installed-* && touch "$stamp"
fi
export PATH="$venv/bin:${FIRSTAPP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-first-app}/bin:$PATH"
