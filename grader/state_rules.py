"""Layer 2 rules: what is applied matches what was submitted, workloads are available,
and each Service's EndpointSlices (those the EndpointSlice controller manages, from
the Service's selector) list exactly the ready pods of its tier. Pure functions of a
`Submission` and a `LiveState`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from course.model import TIERS, Tier
from grader.findings import Finding, field_path
from grader.live import LiveState
from grader.submission import Submission
from grader.workloads import dig

# Fields the API server or controllers own (or kubectl writes): a submission never has
# to match them, and a live object read back as a submission drops them.
SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "namespace",
                   "ownerReferences", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "annotations")
SERVER_FIELDS = {*(("metadata", key) for key in SERVER_METADATA), ("status",)}


def without_server_fields(body: dict[str, Any]) -> dict[str, Any]:
    """A live object as its author would have written it."""
    clean = {key: value for key, value in body.items() if key != "status"}
    metadata = body.get("metadata")
    if isinstance(metadata, dict):
        clean["metadata"] = {k: v for k, v in metadata.items() if k not in SERVER_METADATA}
    return clean


def differences(submitted: Any, live: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any, Any]]:
    """(field path, submitted, live) for every field the submission sets that the live
    object does not hold; fields only the server set (defaults, status) are ignored."""
    if any(path[:len(server)] == server for server in SERVER_FIELDS):
        return
    if isinstance(submitted, dict):
        for key, value in submitted.items():
            yield from differences(value, live.get(key) if isinstance(live, dict) else None, path + (key,))
    elif isinstance(submitted, list):
        live_list = live if isinstance(live, list) else []
        for index, value in enumerate(submitted):
            yield from differences(value, live_list[index] if index < len(live_list) else None, path + (index,))
        if len(live_list) > len(submitted):
            yield field_path(path), f"{len(submitted)} items", f"{len(live_list)} items"
    elif not _same(submitted, live):
        yield field_path(path), submitted, live


def _same(submitted: Any, live: Any) -> bool:
    if submitted == live:
        return True
    if submitted is None or live is None:
        return False
    return str(submitted) == str(live)  # "8080" and 8080, as the server may normalise


def applied_matches(submission: Submission, live: LiveState) -> list[Finding]:
    findings = []
    for manifest in submission.manifests:
        applied = live.objects.get(manifest.ref)
        if applied is None:
            findings.append(Finding(manifest.ref, "", f"not applied in namespace {live.namespace}",
                                    expected="applied", found="missing", where=str(manifest.source)))
            continue
        for path, wanted, found in differences(manifest.body, applied):
            findings.append(Finding(manifest.ref, path, "the applied object differs from the submission "
                                    "(apply the file again)", expected=wanted, found=found,
                                    where=str(manifest.source)))
    return findings


def workloads_available(submission: Submission, live: LiveState) -> list[Finding]:
    findings = []
    for tier in TIERS:
        workload = submission.workload_of(tier)
        if workload is None:
            findings.append(Finding(f"{tier.controller}/{tier.name}", "", "no workload for this tier",
                                    expected=tier.controller, found=None))
            continue
        applied = live.objects.get(workload.ref)
        if applied is None:
            findings.append(Finding(workload.ref, "", f"not found in namespace {live.namespace}",
                                    expected="applied", found="missing"))
            continue
        if workload.kind == "Pod":
            ready = any(p.name == workload.name and p.ready for p in live.pods)
            if not ready:
                findings.append(Finding(workload.ref, "status", "the pod is not ready", expected="Ready",
                                        found=dig(applied, "status", "phase")))
            continue
        wanted = dig(applied, "spec", "replicas", default=1)
        ready = dig(applied, "status", "readyReplicas", default=0)
        if ready < wanted:
            findings.append(Finding(workload.ref, "status.readyReplicas",
                                    "not every replica is ready; see `kubectl describe pods -l "
                                    f"app={tier.name}` for why", expected=wanted, found=ready))
    return findings


def endpoints_match_ready_pods(submission: Submission, live: LiveState, tier: Tier) -> list[Finding]:
    """The Service's ready endpoints are exactly the ready pods of its tier."""
    service = live.objects.get(f"Service/{tier.name}")
    if service is None:
        return [Finding(f"Service/{tier.name}", "", f"not found in namespace {live.namespace}",
                        expected="applied", found="missing")]
    tier_pods = live.pods_of(tier.labels)
    ready_ips = sorted(p.ip for p in tier_pods if p.ready and p.ip)
    endpoints = live.managed_endpoints(tier.name)  # hand-made slices prove nothing about the selector
    listed = sorted(e.address for e in endpoints if e.ready)
    if listed == ready_ips and listed:
        return []
    ref = f"EndpointSlice of Service/{tier.name}"
    if not dig(service, "spec", "selector"):
        hand_made = len(live.endpoints.get(tier.name, [])) - len(endpoints)
        return [Finding(ref, "endpoints", "the Service has no selector, so the EndpointSlice controller lists "
                        f"no pod for it{' (hand-made EndpointSlices do not count)' if hand_made else ''}; "
                        f"select the {tier.name} pods with spec.selector", expected=ready_ips, found="no selector")]
    if not tier_pods:
        return [Finding(ref, "endpoints", f"no {tier.name} pods are running", expected="the tier's pods", found=None)]
    if not ready_ips:
        return [Finding(ref, "endpoints", f"the {tier.name} pods exist but none is ready (readiness probe "
                        "failing?); a Service only routes to ready pods", expected="ready pods",
                        found=", ".join(f"{p.name} (not ready)" for p in tier_pods))]
    if not endpoints:
        selector = dig(service, "spec", "selector")
        return [Finding(ref, "endpoints", "lists no pod: the Service's selector matches none of the "
                        f"{tier.name} pods", expected=ready_ips, found=f"none (selector {selector})")]
    return [Finding(ref, "endpoints", f"does not list exactly the ready {tier.name} pods",
                    expected=ready_ips, found=listed)]


def readiness_seen(live: LiveState) -> list[Finding]:
    """Checkpoint 4's opt-in disruption: with db taken away, api's pods left Service
    api's endpoints (its readiness probe noticed), and came back once db returned."""
    outcome = live.readiness or "not run"
    if outcome.startswith("left and came back"):
        return []
    return [Finding("Service/api", "endpoints", outcome, expected="api leaves while db is away, then comes back",
                    found=outcome)]
