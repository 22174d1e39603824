"""Grading a class: every learner namespace matching a label, concurrently, each
result kept apart so one broken namespace does not stop the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from course.cluster import Cluster
from course.errors import UnusableInput
from grader.result import LabResult
from grader.run import grade_live

WORKERS = 8


def grade_namespaces(lab: str, selector: str, context: str | None = None,
                     manifests: str | None = None) -> dict[str, LabResult | str]:
    """Each namespace's result, or the message saying why it could not be graded."""
    cluster = Cluster.connect(context)
    namespaces = cluster.namespaces(selector)
    if not namespaces:
        raise UnusableInput(f"no namespace has the label {selector!r} in context {cluster.context}")

    def one(namespace: str) -> LabResult | str:
        try:
            return grade_live(lab, namespace, manifests, cluster=cluster.reconnect())
        except UnusableInput as error:
            return str(error)

    with ThreadPoolExecutor(max_workers=min(WORKERS, len(namespaces))) as pool:
        return dict(zip(namespaces, pool.map(one, namespaces)))
