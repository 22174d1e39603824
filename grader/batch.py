"""Grading a class: every learner namespace matching a label, concurrently, each
result kept apart so one broken namespace does not stop the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from firstapp.cluster import Cluster
from grader.errors import UnusableInput
from grader.result import LabResult
from grader.run import grade_live

WORKERS = 8


def grade_namespaces(lab: str, selector: str, context: str | None = None,
                     manifests: str | None = None) -> dict[str, LabResult | str]:
    cluster = Cluster.connect(context)
    namespaces = cluster.namespaces(selector)
    if not namespaces:
        raise UnusableInput(f"no namespace has the label {selector!r} in context {cluster.context}")

    def one(namespace: str) -> LabResult | str:
        # A client per learner: the Kubernetes client's exec streams patch their
        # ApiClient while they run, so one client cannot serve threads in parallel.
        try:
            return grade_live(lab, namespace, manifests, cluster=Cluster.connect(cluster.context))
        except UnusableInput as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(namespaces))) as pool:
        return dict(zip(namespaces, pool.map(one, namespaces)))
