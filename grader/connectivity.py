"""Checkpoint 4's connectivity truth table in pure terms: which probes each source sends
(from each tier's own pods and from a probe pod that carries no tier label, to each tier
by Service name and by pod IP), the cells they fill (the outcome the cluster's
NetworkPolicy enforcer gave, beside the outcome the checkpoint intends,
`policy_rules.EXPECTED`, and the reason the submitted policies give for it), and the
findings of the cells that differ, the way cyclonus and the upstream network-policy e2e
tests present them. Sending the packets is `grader.observe`'s job.

A tier's pod sends its probes itself: the probe program runs inside one pod of the tier
(web's and api's images have Python), so the policies see the tier's labels and no
extra pod ever joins a Service's endpoints. db's image has no Python: its row is not
probed (`observed` None). A blocked probe is one that got no answer: kube-router
rejects at once, other enforcers drop, and both end the same way within the probe's
deadline."""

from __future__ import annotations

from collections.abc import Mapping

from course.model import TIERS, Tier
from course.traffic import Failure, ProbeResult, ProbeSpec
from grader import policy_rules
from grader.findings import Finding
from grader.live import Cell, LiveState

PROBE_TIMEOUT = 1.5  # seconds per probe round; a refused connection ends far sooner
PROBING_TIERS = ("web", "api")  # the tiers whose images can run the probe program
SOURCE_ORDER = ("web", "api", "db", "probe")
Target = tuple[str, str, ProbeSpec]  # (destination tier, what a learner would call it, the probe)


def _spec(tier: Tier, host: str) -> ProbeSpec:
    """A probe of the tier at `host` (a name or an IP) on its serving port."""
    if tier.speaks_redis:
        return ("redis", f"{host}:{tier.port}")
    return ("http", f"http://{host}:{tier.port}/healthz")


def running_pods(live: LiveState) -> dict[str, list[tuple[str, str]]]:
    """tier -> (name, IP) of its running pods, ready ones first (an unready pod still
    sends, and answers on its own IP: policies apply to it all the same)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for tier in TIERS:
        running = sorted((p for p in live.pods_of(tier.labels) if p.phase == "Running" and p.ip),
                         key=lambda p: (not p.ready, p.name))
        if running:
            found[tier.name] = [(p.name, p.ip or "") for p in running]
    return found


def targets(source: str, pods: dict[str, list[tuple[str, str]]], namespace: str) -> list[Target]:
    """What one source probes: each tier by its Service's short name and full name
    (which need the cluster DNS) and by a pod's IP (which does not). A pod always reaches
    itself, whatever the policies, so toward its own tier a source probes only another
    pod of the tier, by IP (its Service might pick the source itself)."""
    sender_ip = pods[source][0][1] if source in pods else None  # the pod that sends: the tier's first
    found = []
    for tier in TIERS:
        others = [(name, ip) for name, ip in pods.get(tier.name, []) if ip != sender_ip]
        if tier.name != source:
            for name in (tier.name, f"{tier.name}.{namespace}.svc.cluster.local"):
                found.append((tier.name, _spec(tier, name)[1], _spec(tier, name)))
        if others:
            name, ip = others[0]
            found.append((tier.name, f"{_spec(tier, ip)[1]} (pod {name})", _spec(tier, ip)))
    return found


def sender(source: str, pods: dict[str, list[tuple[str, str]]]) -> str | None:
    """The pod a tier's probes run in (None: that source cannot send, or has no pod)."""
    return pods[source][0][0] if source in PROBING_TIERS and source in pods else None


def cells(source: str, sent: list[Target], results: list[ProbeResult | None],
          verdicts: Mapping[tuple[str, str], policy_rules.Verdict]) -> list[Cell]:
    """One source's row: each probe's outcome beside the intended one and the policies'
    verdict (`verdicts`: `policy_rules.matrix` of the submission, computed once per table)."""
    expected = policy_rules.expected_matrix()
    return [Cell(source, destination, label, expected[(source, destination)],
                 None if result is None else result.ok, _detail(result),
                 verdicts[(source, destination)].allowed, verdicts[(source, destination)].reason)
            for (destination, label, _), result in zip(sent, results)]


_FAILURES = {Failure.REFUSED: "connection refused", Failure.RESET: "connection reset",
             Failure.TIMEOUT: f"no answer within {PROBE_TIMEOUT} s", Failure.NAME: "name not resolved",
             Failure.UNREACHABLE: "unreachable"}


def _detail(result: ProbeResult | None) -> str:
    """The probe's outcome in a learner's words: what answered, or how it failed."""
    if result is None:
        return "not probed"
    if result.ok:
        return f"answered HTTP {result.status}" if result.status else "answered"
    return _FAILURES.get(result.failure, result.error) if result.failure else result.error


def _who(source: str) -> str:
    return policy_rules.SOURCE_NAMES.get(source, f"a {source} pod")


def findings(live: LiveState) -> list[Finding]:
    """Each probed cell whose outcome differs from the intended one: from, to, expected,
    observed, and why the submitted policies allow or block it (when they agree with
    the packets, that reason is the cause; when they do not, the enforcer and the
    policies disagree, which the finding says)."""
    if all(cell.observed is None for cell in live.connectivity if cell.source in ("web", "api")):
        # the probe pod's row alone is all "blocked" in an empty namespace, as intended
        return [Finding("connectivity", "", "nothing was probed: no pod of web or api is running to send from",
                        expected="the truth table", found="no probes")]
    found = []
    for cell in live.connectivity:
        if cell.matches:
            continue
        observed = "allowed" if cell.observed else "blocked"
        why = cell.reason if cell.predicted == cell.observed else \
            f"the policies submitted say {'allowed' if cell.predicted else 'blocked'} ({cell.reason}); is every " \
            "policy applied?"
        found.append(Finding(f"traffic {_who(cell.source)} -> {cell.target}", "",
                             f"{observed} ({cell.detail}): {why}",
                             expected="allowed" if cell.expected else "blocked", found=observed))
    return found
