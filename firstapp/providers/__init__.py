"""Cluster providers, kind-style: one interface, and the choice of which one to use.

`kind` (Docker) is the learner's default; `local` (upstream components on the host)
is for Linux machines without a usable Docker, such as CI here.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess

from firstapp.providers.base import Provider, ProviderUnavailable
from firstapp.providers.kind import KindProvider
from firstapp.providers.local import LocalProvider

PROVIDERS: dict[str, type[Provider]] = {"kind": KindProvider, "local": LocalProvider}

INSTALL_HELP = """\
No way to run the course's cluster was found on this machine.
  - kind (macOS, Windows, Linux): install Docker Desktop or Docker Engine and start it,
    then install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation).
  - local (Linux only, as root): `sudo firstapp up --provider local` builds a cluster
    from upstream Kubernetes components.
"""


def docker_usable() -> bool:
    if not shutil.which("kind") or not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def choose(name: str | None) -> Provider:
    """The named provider, else kind where usable, else local on Linux as root."""
    if name:
        return PROVIDERS[name]()
    if docker_usable():
        return KindProvider()
    if platform.system() == "Linux" and os.geteuid() == 0:
        return LocalProvider()
    raise ProviderUnavailable(INSTALL_HELP)
