"""Grading a lab: load the submission, read the cluster when asked to, evaluate the
lab's checks, collect the result."""

from __future__ import annotations

from pathlib import Path

from grader.labs import LAYERS, ROUTE_PLANS, STATIC, Context, Skip, checks_of
from grader.live import LiveState
from grader.loading import Manifest, load_path
from grader.result import CheckResult, LabResult
from grader.submission import Submission


def _evaluate(lab: str, layers: tuple[str, ...], context: Context) -> list[CheckResult]:
    results = []
    for check in checks_of(lab, layers):
        result = CheckResult(check.id, check.title, check.points, check.visibility, general_hint=check.hint)
        try:
            result.findings = check.evaluate(context)
        except Skip as skipped:
            result.skipped = str(skipped)
        results.append(result)
    return results


def _load(manifests: str | Path | list[Manifest]) -> list[Manifest]:
    return manifests if isinstance(manifests, list) else load_path(manifests)


def grade_static(lab: str, manifests: str | Path | list[Manifest]) -> LabResult:
    """Layer 1 only: the learner's YAML, no cluster. Raises `UnusableInput` (exit 2)
    for input that cannot be graded at all."""
    checks_of(lab, (STATIC,))  # an unknown lab is reported before the input is read
    return LabResult(lab, _evaluate(lab, (STATIC,), Context(Submission(_load(manifests)))))


def grade_live(lab: str, namespace: str, manifests: str | Path | list[Manifest] | None = None,
               context: str | None = None, allow_disruption: bool = False, cluster=None) -> LabResult:
    """All three layers. Without `manifests`, the namespace's own objects are the
    submission (for grading what a learner applied by hand, or a whole class)."""
    from firstapp.cluster import Cluster
    from grader import observe

    checks_of(lab, LAYERS)
    submitted = _load(manifests) if manifests is not None else None
    cluster = cluster or Cluster.connect(context)
    with observe.cluster_errors(cluster):
        live: LiveState = observe.collect(cluster, namespace)
        submission = Submission(submitted if submitted is not None else observe.as_submission(live))
        plan = ROUTE_PLANS.get(lab)
        if plan is not None:
            observe.probe_routes(cluster, live, plan(live))
        if allow_disruption:
            observe.disrupt(cluster, live)
    results = _evaluate(lab, LAYERS, Context(submission, live, allow_disruption, submitted is not None))
    return LabResult(lab, results, namespace=namespace, routes=live.routes)
