"""Grading a class: every learner namespace matching a label, concurrently, each
result kept apart so one broken namespace does not stop the others: whatever grading
one namespace raises becomes that namespace's error entry (the exception's type and
message; its traceback is logged at debug level), and the others are still graded.
Each run removes its probe pod whatever happened (`course.probe.ProbePod`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from course.cluster import Cluster
from course.errors import Forbidden, NotFound, UnusableInput
from course.place import CLASS_NAMESPACE
from course.probe import ProbePod
from grader.result import LabResult
from grader.run import grade_live

WORKERS = 8
_log = logging.getLogger(__name__)


def grade_namespaces(lab: str, selector: str, context: str | None = None,
                     manifests: str | None = None) -> dict[str, LabResult | str]:
    """Each namespace's result, or the message saying why it could not be graded."""
    cluster = Cluster.connect(context)
    namespaces = cluster.namespaces(selector)
    if not namespaces:
        raise UnusableInput(f"no namespace has the label {selector!r} in context {cluster.context}")

    with _class_probe_pod(cluster) as shared:
        def one(namespace: str) -> LabResult | str:
            return _grade_one(lab, namespace, manifests, cluster, shared)

        with ThreadPoolExecutor(max_workers=min(WORKERS, len(namespaces))) as pool:
            return dict(zip(namespaces, pool.map(one, namespaces)))


@contextmanager
def _class_probe_pod(cluster: Cluster) -> Iterator[ProbePod | None]:
    """One probe pod for every namespace, in a class's instructor namespace when there is
    one (a pod start is most of what grading one namespace costs); else each namespace
    starts its own."""
    try:
        with cluster.errors(f"read namespace {CLASS_NAMESPACE}"):
            cluster.core.read_namespace(CLASS_NAMESPACE)
    except (NotFound, Forbidden):
        yield None
        return
    with ProbePod(cluster, CLASS_NAMESPACE, attempts=2) as shared:
        yield shared


def _grade_one(lab: str, namespace: str, manifests: str | None, cluster: Cluster,
               shared: ProbePod | None) -> LabResult | str:
    try:
        return grade_live(lab, namespace, manifests, cluster=cluster.reconnect(), shared=shared)
    except UnusableInput as error:
        _log.debug("namespace %s could not be graded", namespace, exc_info=True)
        return str(error)
    except Exception as error:  # noqa: BLE001 - one learner's namespace must not cost the class its report
        _log.debug("grading namespace %s failed", namespace, exc_info=True)
        message = " ".join(str(error).split())[:400]
        return f"grading namespace {namespace} failed: {type(error).__name__}: {message}"
