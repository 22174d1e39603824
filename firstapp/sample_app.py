"""The sample application on a cluster: deploy the reference manifests and ask the
running app whether web -> api -> db answers."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from firstapp.cluster import Cluster
from firstapp.providers.base import REPO
from grader.course import WEB_NODE_PORT

APP_URL = "http://localhost:30080"
APP_NAMESPACE = "firstapp"
REFERENCE = {lab: REPO / "k8s" / "reference" / f"{lab}.yaml" for lab in ("checkpoint-1", "checkpoint-2", "checkpoint-3")}


def reference_objects(lab: str = "checkpoint-3") -> list[dict]:
    return [doc for doc in yaml.safe_load_all(Path(REFERENCE[lab]).read_text()) if doc]


def deploy(cluster: Cluster, namespace: str = APP_NAMESPACE, lab: str = "checkpoint-3") -> list[str]:
    cluster.ensure_namespace(namespace)
    for service in cluster.release_node_port(WEB_NODE_PORT, keep_namespace=namespace):
        print(f"node port {WEB_NODE_PORT} moved to namespace {namespace} (deleted Service {service})", file=sys.stderr)
    applied = cluster.apply(reference_objects(lab), namespace)
    cluster.wait_available(namespace, [ref for ref in applied if ref.split("/")[0] in ("Deployment", "StatefulSet")])
    return applied


def chain(url: str = APP_URL, timeout: float = 3.0) -> dict:
    """What web's /chain says: each hop and who answered, or why the request failed."""
    try:
        with urllib.request.urlopen(f"{url}/chain", timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return {"ok": False, "failed_hop": "web", "error": f"HTTP {error.code}"}
    except (OSError, ValueError) as error:
        return {"ok": False, "failed_hop": "web", "error": f"{url}: {getattr(error, 'reason', error)}"}


def wait_answering(url: str = APP_URL, timeout: float = 60.0) -> dict:
    """Polls until the whole chain answers, or returns the last answer after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = chain(url)
        if answer.get("ok") or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)
