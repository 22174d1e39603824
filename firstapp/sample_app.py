"""The sample application on a cluster: deploy a lab's reference manifests and ask the
running app whether web -> api -> db answers."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import yaml

from course.errors import UnusableInput
from course.labs import LABS
from course.model import APP_NAMESPACE, APP_URL, WEB_NODE_PORT
from course.paths import course_home

if TYPE_CHECKING:
    from course.cluster import Cluster


GIVEN = "k8s/given"  # a learner edition's given workloads, in place of the reference answers


def reference_objects(lab: str = "checkpoint-3") -> list[dict[str, Any]]:
    """The lab's reference solution, as objects."""
    path = course_home() / LABS[lab].reference
    if not path.exists():
        raise UnusableInput(f"this copy of the course has no reference answers ({LABS[lab].reference}): "
                            "it is a learner edition; your instructor has them")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def given_objects(lab: str = "checkpoint-3") -> list[dict[str, Any]]:
    """What a Services-only lab gives the learner: the workloads of its reference (read
    from k8s/given/ in a learner edition, which has no reference)."""
    given = course_home() / GIVEN / f"{lab}.yaml"
    if given.exists():
        return [doc for doc in yaml.safe_load_all(given.read_text()) if doc]
    return [o for o in reference_objects(lab) if o["kind"] != "Service"]


def deploy(cluster: Cluster, namespace: str = APP_NAMESPACE, lab: str = "checkpoint-3") -> list[str]:
    cluster.ensure_namespace(namespace)
    for service in cluster.release_node_port(WEB_NODE_PORT, keep_namespace=namespace):
        print(f"node port {WEB_NODE_PORT} moved to namespace {namespace} (deleted Service {service})", file=sys.stderr)
    applied = cluster.apply(reference_objects(lab), namespace)
    started = time.monotonic()
    for ref in [ref for ref in applied if ref.split("/")[0] in ("Deployment", "StatefulSet")]:
        cluster.wait_available(namespace, [ref])  # one at a time, so that each one's rollout is reported
        print(f"    rollout: {ref} ready ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    return applied


def chain(url: str = APP_URL, timeout: float = 3.0) -> dict[str, Any]:
    """What web's /chain says: each hop and who answered, or why the request failed."""
    try:
        with urllib.request.urlopen(f"{url}/chain", timeout=timeout) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        return {"ok": False, "failed_hop": "web", "error": f"HTTP {error.code}"}
    except (OSError, ValueError) as error:
        return {"ok": False, "failed_hop": "web", "error": f"{url}: {getattr(error, 'reason', error)}"}
    return answer if isinstance(answer, dict) else {"ok": False, "failed_hop": "web", "error": f"{url}: not JSON"}


def wait_answering(url: str = APP_URL, timeout: float = 60.0) -> dict[str, Any]:
    """Polls until the whole chain answers, or returns the last answer after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = chain(url)
        if answer.get("ok") or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)
