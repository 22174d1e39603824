"""What a lab's Apply needs beyond `Cluster.apply` (which stays the one way objects are
applied, dry run of all first): a dry run of each object that collects every refusal,
telling a refused immutable change (replace the object) from a real mistake; a check
that a replacement would be created before the old object is deleted; deleting that
accepts "already gone"; and pruning by label, as `kubectl apply --prune -l` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from course.cluster import FIELD_MANAGER
from course.errors import ApiError, ClusterUnavailable, Invalid, NotFound, UnusableInput

if TYPE_CHECKING:
    from course.cluster import Cluster

# The kinds a lab may hold, which pruning by label looks through (with any kind of the
# objects at hand), as `kubectl apply --prune` does with its allowlist.
PRUNABLE_KINDS = (("v1", "Pod"), ("v1", "Service"), ("v1", "ConfigMap"), ("v1", "Secret"),
                  ("v1", "PersistentVolumeClaim"), ("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"),
                  ("apps/v1", "DaemonSet"), ("apps/v1", "ReplicaSet"), ("batch/v1", "Job"), ("batch/v1", "CronJob"),
                  ("networking.k8s.io/v1", "Ingress"), ("networking.k8s.io/v1", "NetworkPolicy"))
# How the API server words a refusal to change a field that cannot change on a live
# object (a Pod's spec, a StatefulSet's selector or serviceName, a Service's clusterIP,
# a Deployment's selector): such an object must be replaced, not updated.
IMMUTABLE_PHRASES = ("field is immutable", "may not change once set", "pod updates may not change fields",
                     "updates to statefulset spec for fields other than")


def is_immutable_refusal(error: ApiError) -> bool:
    """The server refused an update that only a delete and create can make."""
    return isinstance(error, Invalid) and any(phrase in error.message for phrase in IMMUTABLE_PHRASES)


def ref_of(body: dict[str, Any]) -> str:
    """`Kind/name`, as kubectl names an object."""
    return f"{body['kind']}/{body['metadata']['name']}"


def dry_run_each(cluster: Cluster, objects: Iterable[dict[str, Any]], namespace: str) -> dict[str, ApiError | None]:
    """A server-side apply dry run of every object: `Kind/name` -> the server's refusal,
    or None where it would be accepted. Changes nothing."""
    refused: dict[str, ApiError | None] = {}
    for body in objects:
        api = cluster.resource(body["apiVersion"], body["kind"])
        try:
            with cluster.errors(f"apply {ref_of(body)}"):
                api.server_side_apply(body=body, name=body["metadata"]["name"], namespace=namespace,
                                      field_manager=FIELD_MANAGER, force_conflicts=True, dry_run="All")
            refused[ref_of(body)] = None
        except ApiError as error:
            refused[ref_of(body)] = error
    return refused


def dry_run_create(cluster: Cluster, body: dict[str, Any], namespace: str) -> None:
    """Raises the server's refusal if `body` could not be created from scratch (checked
    before the object it replaces is deleted). Checked under a made-up name and without
    what the live object holds (node ports, cluster IPs), so the live one is no obstacle."""
    probe = {**body, "metadata": {**body["metadata"], "name": f"{str(body['metadata']['name'])[:40]}-replacement"}}
    if body["kind"] == "Service" and isinstance(body.get("spec"), dict):
        spec = {k: v for k, v in body["spec"].items() if k not in ("clusterIP", "clusterIPs")}
        spec["ports"] = [{k: v for k, v in p.items() if k != "nodePort"} if isinstance(p, dict) else p
                         for p in spec.get("ports") or []]
        probe["spec"] = spec
    api = cluster.resource(body["apiVersion"], body["kind"])
    with cluster.errors(f"create {ref_of(body)}"):
        api.create(body=probe, namespace=namespace, dry_run="All", field_manager=FIELD_MANAGER)


def delete(cluster: Cluster, api_version: str, kind: str, name: str, namespace: str, wait: float = 120.0) -> bool:
    """Deletes one object (gone already is fine; what it owns follows in the background),
    waiting up to `wait` s until it is gone; True if there was something to delete."""
    deleted = _delete(cluster, api_version, kind, name, namespace)
    if deleted:
        wait_gone(cluster, [(api_version, kind, name)], namespace, wait)
    return deleted


def _delete(cluster: Cluster, api_version: str, kind: str, name: str, namespace: str) -> bool:
    api = cluster.resource(api_version, kind)
    try:
        with cluster.errors(f"delete {kind}/{name} in namespace {namespace}"):
            api.delete(name=name, namespace=namespace, grace_period_seconds=1 if kind == "Pod" else None,
                       propagation_policy="Background")
    except NotFound:
        return False
    return True


def wait_gone(cluster: Cluster, objects: list[tuple[str, str, str]], namespace: str, wait: float = 120.0) -> None:
    """Waits until every (apiVersion, kind, name) is gone from `namespace`."""
    deadline = time.monotonic() + wait
    pending = list(objects)
    while pending:
        api_version, kind, name = pending[0]
        try:
            with cluster.errors(f"read {kind}/{name} in namespace {namespace}"):
                cluster.resource(api_version, kind).get(name=name, namespace=namespace)
        except NotFound:
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise ClusterUnavailable(f"{kind}/{name} in namespace {namespace} is still there {wait:.0f} s after "
                                     f"being deleted; see `kubectl -n {namespace} describe {kind.lower()} {name}`")
        time.sleep(0.5)


def labelled(cluster: Cluster, namespace: str, selector: str,
             kinds: Iterable[tuple[str, str]] = PRUNABLE_KINDS) -> list[tuple[str, str, str]]:
    """(apiVersion, kind, name) of every object of `kinds` in `namespace` with the label
    `selector`, not already being deleted; a kind this account may not list is left out."""
    found = []
    for api_version, kind in dict.fromkeys(kinds):
        try:
            api = cluster.resource(api_version, kind)
            with cluster.errors(f"list {kind} with label {selector} in namespace {namespace}"):
                items = api.get(namespace=namespace, label_selector=selector).items
        except ClusterUnavailable:
            raise
        except UnusableInput:  # no such kind here, or forbidden to list it
            continue
        found += [(api_version, kind, item.metadata.name) for item in items if not item.metadata.deletionTimestamp]
    return found


def prune(cluster: Cluster, namespace: str, selector: str, keep: Iterable[str],
          kinds: Iterable[tuple[str, str]] = PRUNABLE_KINDS, wait: float = 120.0) -> list[str]:
    """Deletes the objects labelled `selector` whose `Kind/name` is not in `keep`, as
    `kubectl apply --prune -l` does, waiting up to `wait` s until they are gone; returns
    `Kind/name` of each one deleted."""
    kept = set(keep)
    deleted = [(api_version, kind, name) for api_version, kind, name in labelled(cluster, namespace, selector, kinds)
               if f"{kind}/{name}" not in kept and _delete(cluster, api_version, kind, name, namespace)]
    if wait:
        wait_gone(cluster, deleted, namespace, wait)
    return [f"{kind}/{name}" for _, kind, name in deleted]
