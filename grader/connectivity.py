"""Checkpoint 4's connectivity truth table with real packets: from each tier's own pods
and from a probe pod that carries no tier label, to each tier by Service name and by pod
IP, the outcome the cluster's NetworkPolicy enforcer gives, beside the outcome the
checkpoint intends (`policy_rules.EXPECTED`) and the reason the submitted policies give
for it (`policy_rules.matrix`), the way cyclonus and the upstream network-policy e2e
tests present it.

A tier's pod sends its probes itself: the probe program runs inside one ready pod of
the tier (web's and api's images have Python), so the policies see the tier's labels
and no extra pod ever joins a Service's endpoints. db's image has no Python: its row is
not probed (`observed` None). A blocked probe is one that got no answer: kube-router
rejects at once, other enforcers drop, and both end the same way within the probe's
deadline."""

from __future__ import annotations

from dataclasses import dataclass

from course.cluster import Cluster, pod_is_ready
from course.model import TIERS, Tier
from course.probe import ProbePod
from course.traffic import ProbeResult, ProbeSpec, Runner, run_batch
from grader import policy_rules
from grader.submission import Submission

PROBE_TIMEOUT = 1.5  # seconds per probe round; a refused connection ends far sooner
PROBING_TIERS = ("web", "api")  # the tiers whose images can run the probe program
SOURCE_ORDER = ("web", "api", "db", "probe")


@dataclass
class Cell:
    source: str  # "web", "api", "db", "probe"
    destination: str  # a tier
    target: str  # what was probed: "http://api:8080/healthz", "10.244.0.7:6379 (pod db-0)"
    expected: bool
    observed: bool | None  # None: not probed
    detail: str  # the probe's own words (HTTP status, or why it failed)
    predicted: bool  # what the submitted policies say (policy_rules.allowed)
    reason: str  # why they allow or block it

    @property
    def matches(self) -> bool:
        return self.observed is None or self.observed == self.expected


def _spec(tier: Tier, host: str) -> ProbeSpec:
    """A probe of the tier at `host` (a name or an IP) on its serving port."""
    if tier.speaks_redis:
        return ("redis", f"{host}:{tier.port}")
    return ("http", f"http://{host}:{tier.port}/healthz")


def _targets(source: str, pods: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, ProbeSpec]]:
    """(destination, label, probe) for one source: each tier by its Service's name and by
    a pod's IP. A pod always reaches itself, whatever the policies, so toward its own tier
    a source probes only another pod of the tier, by IP (its Service might pick the
    source itself)."""
    sender_ip = pods[source][0][1] if source in pods else None  # the pod that sends: the tier's first
    targets = []
    for tier in TIERS:
        others = [(name, ip) for name, ip in pods.get(tier.name, []) if ip != sender_ip]
        if tier.name != source:
            targets.append((tier.name, _spec(tier, tier.name)[1], _spec(tier, tier.name)))
        if others:
            name, ip = others[0]
            targets.append((tier.name, f"{_spec(tier, ip)[1]} (pod {name})", _spec(tier, ip)))
    return targets


def _running_pods(cluster: Cluster, namespace: str) -> dict[str, list[tuple[str, str]]]:
    """tier -> (name, IP) of its running pods, ready ones first (an unready pod still
    sends, and answers on its own IP: policies apply to it all the same)."""
    with cluster.errors(f"list the pods of namespace {namespace}"):
        pods = cluster.core.list_namespaced_pod(namespace).items
    found: dict[str, list[tuple[str, str]]] = {}
    for tier in TIERS:
        running = [p for p in pods if (p.metadata.labels or {}).get("app") == tier.name
                   and p.status.phase == "Running" and p.status.pod_ip and not p.metadata.deletion_timestamp]
        running.sort(key=lambda p: (not pod_is_ready(p), p.metadata.name))
        if running:
            found[tier.name] = [(p.metadata.name, p.status.pod_ip) for p in running]
    return found


def _runner(cluster: Cluster, namespace: str, pod: str) -> Runner:
    """Runs the probe program inside the pod, with the pod's own labels, address and resolver."""
    def run(command: list[str]) -> str:
        return cluster.exec(namespace, pod, command, timeout=PROBE_TIMEOUT * 2 + 10)
    return run


def truth_table(cluster: Cluster, namespace: str, submission: Submission) -> list[Cell]:
    """Every (source, destination, target) cell, probed where the source can send."""
    pods = _running_pods(cluster, namespace)
    verdicts = policy_rules.matrix(submission, namespace)
    expected = policy_rules.expected_matrix()
    cells = []
    for source in SOURCE_ORDER:
        targets = _targets(source, pods)
        specs = [spec for _, _, spec in targets]
        results: list[ProbeResult | None]
        if source in PROBING_TIERS and source in pods:
            sender = pods[source][0][0]
            results = [*run_batch(_runner(cluster, namespace, sender), specs, PROBE_TIMEOUT, attempts=1)]
        elif source == "probe":
            with ProbePod(cluster, namespace, timeout=PROBE_TIMEOUT, attempts=1) as probe:
                results = [*probe.batch(specs)]
        else:
            results = [None] * len(specs)
        for (destination, label, _), result in zip(targets, results):
            verdict = verdicts[(source, destination)]
            cells.append(Cell(source, destination, label, expected[(source, destination)],
                              None if result is None else result.ok, _detail(result),
                              verdict.allowed, verdict.reason))
    return cells


def _detail(result: ProbeResult | None) -> str:
    if result is None:
        return "not probed"
    if result.ok:
        return f"answered HTTP {result.status}" if result.status else "answered"
    return result.error
