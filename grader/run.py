"""Grading a lab: load the submission, evaluate the lab's checks, collect the result."""

from __future__ import annotations

from pathlib import Path

from grader.labs import STATIC, checks_of
from grader.loading import Manifest, load_path
from grader.result import CheckResult, LabResult
from grader.submission import Submission


def grade_static(lab: str, manifests: str | Path | list[Manifest]) -> LabResult:
    """Layer 1 only: the learner's YAML, no cluster. Raises `UnusableInput` (exit 2)
    for input that cannot be graded at all."""
    checks = checks_of(lab, (STATIC,))
    loaded = manifests if isinstance(manifests, list) else load_path(manifests)
    submission = Submission(loaded)
    return LabResult(lab, [
        CheckResult(check.id, check.title, check.points, check.visibility,
                    findings=check.evaluate(submission), general_hint=check.hint)
        for check in checks])
