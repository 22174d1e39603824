"""A class's grade survives any one learner: whatever grading one namespace raises
becomes that namespace's error entry (type and message, no traceback), and every other
namespace is still graded (constructed here; tests/cluster/test_hostile_pods.py does it
with hostile pods on the real cluster)."""

from __future__ import annotations

import contextlib

import pytest

from course.errors import ClusterUnavailable
from grader import batch, reports
from grader.result import CheckResult, LabResult


class FakeCluster:
    context = "fake"

    def namespaces(self, selector: str) -> list[str]:
        return ["ann", "bob", "cat", "dan", "eve"]

    def reconnect(self) -> FakeCluster:
        return self


def test_one_namespace_raising_anything_costs_only_its_own_result(monkeypatch):
    failures: dict[str, BaseException] = {
        "bob": RecursionError("maximum recursion depth exceeded while decoding a JSON array"),
        "cat": ClusterUnavailable("namespace cat does not exist"),
        "dan": TypeError("unhashable type: 'list'\nsecond line"),
    }

    def grade_live(lab: str, namespace: str, manifests: object, cluster: object, shared: object) -> LabResult:
        if namespace in failures:
            raise failures[namespace]
        return LabResult(lab, [CheckResult("c", "a check", 1, "visible")], namespace=namespace)

    monkeypatch.setattr(batch.Cluster, "connect", classmethod(lambda cls, context=None: FakeCluster()))
    monkeypatch.setattr(batch, "grade_live", grade_live)
    monkeypatch.setattr(batch, "_class_probe_pod", lambda cluster: contextlib.nullcontext(None))
    results = batch.grade_namespaces("checkpoint-3", "course=x")
    assert list(results) == ["ann", "bob", "cat", "dan", "eve"]
    assert all(isinstance(results[ns], LabResult) for ns in ("ann", "eve"))
    assert results["bob"] == ("grading namespace bob failed: RecursionError: maximum recursion depth exceeded "
                              "while decoding a JSON array")
    assert results["cat"] == "namespace cat does not exist"  # an UnusableInput keeps its own message
    assert results["dan"] == "grading namespace dan failed: TypeError: unhashable type: 'list' second line"
    csv = reports.batch_csv(results)
    assert csv.count("\n") == 6 and "Traceback" not in csv and "Traceback" not in reports.batch_json(results)


def test_an_interrupt_is_not_swallowed(monkeypatch):
    def grade_live(*args: object, **kwargs: object) -> LabResult:
        raise KeyboardInterrupt

    monkeypatch.setattr(batch.Cluster, "connect", classmethod(lambda cls, context=None: FakeCluster()))
    monkeypatch.setattr(batch, "grade_live", grade_live)
    monkeypatch.setattr(batch, "_class_probe_pod", lambda cluster: contextlib.nullcontext(None))
    with pytest.raises(KeyboardInterrupt):
        batch.grade_namespaces("checkpoint-3", "course=x")
