"""Grading a lab: load the submission, read the cluster when asked to, evaluate the
lab's checks, collect the result."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from course.model import WEB_NODE_PORT
from course.place import SOLO_HOST
from grader.checks import LAYERS, STATIC, Context, Skip
from grader.labs import GradedLab, graded_lab
from grader.live import LiveState
from grader.loading import Manifest, load_path
from grader.result import CheckResult, LabResult
from grader.submission import Submission

if TYPE_CHECKING:  # the cluster client is imported only where a cluster is used
    from course.cluster import Cluster
    from course.probe import ProbePod

Manifests = str | Path | list[Manifest]


def _evaluate(lab: GradedLab, layers: tuple[str, ...], context: Context) -> list[CheckResult]:
    results = []
    for check in lab.checks_in(layers):
        result = CheckResult(check.id, check.title_in(context), check.points, check.visibility,
                             general_hint=check.hint_in(context))
        try:
            result.findings = check.evaluate(context)
        except Skip as skipped:
            result.skipped = str(skipped)
        results.append(result)
    return results


def _load(manifests: Manifests) -> list[Manifest]:
    return manifests if isinstance(manifests, list) else load_path(manifests)


def grade_static(lab_id: str, manifests: Manifests, node_port: int = WEB_NODE_PORT, host: str = SOLO_HOST) -> LabResult:
    """Layer 1 only: the learner's YAML, no cluster, for the learner whose node port and
    ingress host are given (the solo learner's by default). Raises `UnusableInput`
    (exit 2) for input that cannot be graded at all."""
    lab = graded_lab(lab_id)  # an unknown lab is reported before the input is read
    context = Context(Submission(_load(manifests), lab.lab.services_only), node_port=node_port, host=host)
    return LabResult(lab_id, _evaluate(lab, (STATIC,), context))


def grade_live(lab_id: str, namespace: str, manifests: Manifests | None = None,
               context: str | None = None, allow_disruption: bool = False,
               cluster: Cluster | None = None, node_address: str | None = None,
               shared: ProbePod | None = None) -> LabResult:
    """All three layers. Without `manifests`, the namespace's own objects are the
    submission (for grading what a learner applied by hand, or a whole class)."""
    from course.cluster import Cluster

    lab = graded_lab(lab_id)
    submitted = _load(manifests) if manifests is not None else None
    live, submission = observe_lab(lab, cluster or Cluster.connect(context), namespace, submitted, allow_disruption,
                                   node_address, shared)
    return grade_observed(lab, submission, live, allow_disruption, submitted is not None)


def observe_lab(lab: GradedLab, cluster: Cluster, namespace: str, submitted: list[Manifest] | None = None,
                allow_disruption: bool = False, node_address: str | None = None,
                shared: ProbePod | None = None) -> tuple[LiveState, Submission]:
    """What a live grading reads and sends, in order: the namespace's objects, the lab's
    traffic (its route plan; checkpoint 4's connectivity truth table), then the lab's
    disruption when allowed. The submission is `submitted`, else what is applied."""
    from grader import observe

    live = observe.collect(cluster, namespace, networking=lab.lab.networking)
    if node_address:
        live.node_address = node_address
    submission = Submission(submitted if submitted is not None else observe.as_submission(live), lab.lab.services_only)
    if lab.route_plan is not None:
        observe.probe_routes(cluster, live, lab.route_plan(live), shared=shared)
    if lab.lab.networking:
        observe.probe_connectivity(cluster, live, submission)
    if allow_disruption and lab.disrupt is not None:
        lab.disrupt(cluster, live)
    return live, submission


def grade_observed(lab: GradedLab, submission: Submission, live: LiveState, allow_disruption: bool = False,
                   submitted_file: bool = True) -> LabResult:
    """All three layers on what was observed: live, or a collected snapshot."""
    context = Context(submission, live, allow_disruption, submitted_file, node_port=live.node_port, host=live.host)
    return LabResult(lab.lab.id, _evaluate(lab, LAYERS, context), namespace=live.namespace, routes=live.routes,
                     connectivity=live.connectivity)
