"""A learner's kubeconfig: the class cluster's address and CA, their ServiceAccount's
token, their first lab's namespace as the default."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml


def learner_kubeconfig(learner: str, server: str, ca_pem: bytes, token: str, namespace: str) -> dict[str, Any]:
    name = f"firstapp-{learner}"
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": name, "preferences": {},
        "clusters": [{"name": "firstapp-class", "cluster": {
            "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": "firstapp-class", "user": name, "namespace": namespace}}],
    }


def write(path: Path, kubeconfig: dict[str, Any]) -> None:
    """Writes the file readable by its owner only: it holds a credential."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        yaml.safe_dump(kubeconfig, file, sort_keys=False)
    os.chmod(path, 0o600)
