"""A learner's lab frozen at collection time, so that grading (and regrading after a
rubric change) needs no cluster and gives the same answer every time.

A snapshot is a folder, `submissions/<learner>/<lab>/`:
- `objects.yaml`: the applied objects, server-set fields stripped (the submission);
- `state.json`: what the grader observed: the live objects with their status (not
  their managedFields), pods, EndpointSlices, the routing table, the node port and the ingress host;
- `collected.json`: when it was collected, and when the learner last changed anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from course.errors import UnusableInput
from course.place import SOLO_HOST
from course.traffic import Failure
from grader.live import Cell, Endpoint, LiveState, Pod, Reach, Route
from grader.loading import Manifest, load_path
from grader.state_rules import without_server_fields

OBJECTS, STATE, COLLECTED = "objects.yaml", "state.json", "collected.json"


def last_change(live: LiveState) -> str:
    """The latest time any of the learner's objects was written (from managedFields)."""
    times = [entry.get("time") or "" for body in live.objects.values()
             for entry in (body.get("metadata") or {}).get("managedFields") or [] if isinstance(entry, dict)]
    return max(times, default="")


def save(folder: Path, live: LiveState, lab: str, learner: str, collected_at: datetime) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    objects = [without_server_fields(body) for _, body in sorted(live.objects.items())]
    (folder / OBJECTS).write_text(yaml.safe_dump_all(objects, sort_keys=False) if objects else "")
    (folder / STATE).write_text(json.dumps(_state(live), indent=1, sort_keys=True) + "\n")
    (folder / COLLECTED).write_text(json.dumps({
        "learner": learner, "lab": lab, "namespace": live.namespace,
        "collected_at": collected_at.isoformat(timespec="seconds"), "last_change": last_change(live),
    }, indent=1) + "\n")


def _without_managed_fields(body: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in (body.get("metadata") or {}).items() if k != "managedFields"}
    return {**body, "metadata": metadata}


def _state(live: LiveState) -> dict[str, Any]:
    return {
        "namespace": live.namespace,
        "objects": {ref: _without_managed_fields(body) for ref, body in live.objects.items()},
        "node_port": live.node_port,
        "node_address": live.node_address,
        "host": live.host,
        "node_images": sorted(live.node_images) if live.node_images is not None else None,
        "self_healing": live.self_healing,
        "readiness": live.readiness,
        "connectivity": [asdict(c) for c in live.connectivity],
        "pods": [asdict(p) for p in live.pods],
        "endpoints": {service: [asdict(e) for e in endpoints] for service, endpoints in live.endpoints.items()},
        "routes": [{**asdict(r), "expected": r.expected.value, "observed": r.observed.value,
                    "failure": r.failure.value if r.failure else None} for r in live.routes],
    }


def load(folder: Path) -> tuple[list[Manifest], LiveState, dict[str, Any]]:
    """The submission, the observed state and the collection record of a snapshot."""
    try:
        collected = json.loads((folder / COLLECTED).read_text())
        state = json.loads((folder / STATE).read_text())
        text = (folder / OBJECTS).read_text()
        manifests = load_path(folder / OBJECTS) if text.strip() else []
        live = _live(state)
    except OSError as error:
        raise UnusableInput(f"snapshot {folder}: cannot read {error.filename} ({error.strerror}); "
                            "collect it again with `firstapp class collect`") from error
    except (ValueError, KeyError, TypeError) as error:
        raise UnusableInput(f"snapshot {folder} is damaged ({type(error).__name__}: {error}); "
                            "collect it again with `firstapp class collect`") from error
    return manifests, live, collected


def _live(state: dict[str, Any]) -> LiveState:
    images = state["node_images"]
    pods = [Pod(**{**p, "labels": dict(p["labels"]), "images": tuple(p["images"]), "liveness": tuple(p["liveness"])})
            for p in state["pods"]]
    return LiveState(
        namespace=str(state["namespace"]),
        objects={str(ref): dict(body) for ref, body in state["objects"].items()},
        pods=pods,
        endpoints={service: [Endpoint(**e) for e in endpoints] for service, endpoints in state["endpoints"].items()},
        node_images=set(images) if images is not None else None,
        routes=[Route(**{**r, "expected": Reach(r["expected"]), "observed": Reach(r["observed"]),
                         "failure": Failure(r["failure"]) if r["failure"] else None}) for r in state["routes"]],
        self_healing=state["self_healing"],
        readiness=state.get("readiness"),  # snapshots from before checkpoint 4 have neither
        connectivity=[Cell(**c) for c in state.get("connectivity", [])],
        node_port=int(state["node_port"]),
        node_address=str(state["node_address"]),
        host=str(state.get("host", SOLO_HOST)),  # snapshots from before a host per learner were graded for this one
    )
