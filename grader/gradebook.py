"""A class's grades out of `LabResult`s: Gradescope's `results.json`, the class CSV keyed
by learner, and each learner's feedback (visible checks only).

Points come from the lab definition; an instructor reweights them with a small TOML
file (`[checkpoint-3]` then `web-service-type = 2`), read by `weights_from_toml`.
Everything here is pure: the caller reads and writes the files."""

from __future__ import annotations

import csv
import dataclasses
import io
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from course.errors import UnusableInput
from grader.findings import json_safe, printable
from grader.labs import LABS
from grader.result import LabResult, Outcome

Weights = Mapping[str, Mapping[str, int]]  # lab id -> check id -> points


def weights_from_toml(text: str, source: str) -> dict[str, dict[str, int]]:
    """The instructor's reweighting: every lab and check named must exist, every weight
    is a whole number of points from 0 to 100."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UnusableInput(f"{source}: not TOML ({error})") from error
    weights: dict[str, dict[str, int]] = {}
    for lab_id, table in data.items():
        if lab_id not in LABS:
            raise UnusableInput(f"{source}: [{lab_id}] is not a lab; the labs are {', '.join(LABS)}")
        if not isinstance(table, dict):
            raise UnusableInput(f"{source}: [{lab_id}] must be a table of check = points")
        known = {check.id for check in LABS[lab_id].checks}
        for check_id, points in table.items():
            if check_id not in known:
                raise UnusableInput(f"{source}: [{lab_id}] {check_id}: no such check; "
                                    f"the checks are {', '.join(sorted(known))}")
            if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 100:
                raise UnusableInput(f"{source}: [{lab_id}] {check_id}: expected whole points from 0 to 100, "
                                    f"found {points!r}")
        weights[lab_id] = dict(table)
    return weights


def reweighed(result: LabResult, weights: Weights) -> LabResult:
    """`result` with each check's points as the instructor weighs them."""
    table = weights.get(result.lab, {})
    checks = [dataclasses.replace(c, max_score=table.get(c.id, c.max_score)) for c in result.checks]
    return dataclasses.replace(result, checks=checks)


def gradescope(result: LabResult) -> dict[str, Any]:
    """Gradescope's autograder `results.json`: every check a test, hidden checks with
    visibility "hidden" (counted in the score, never shown to the learner)."""
    report: dict[str, Any] = json_safe({
        "score": result.score,
        "max_score": result.max_score,
        "output": result.summary(),
        "visibility": "visible",
        "tests": [{
            "name": f"{c.id}: {c.title}",
            "score": c.score,
            "max_score": c.counted_max,
            "status": "passed" if c.outcome is Outcome.PASS else "failed",
            "output": c.hint if c.visibility == "visible" else "",
            "visibility": "visible" if c.visibility == "visible" else "hidden",
        } for c in result.checks],
    })
    return report


def not_graded(reason: str) -> dict[str, Any]:
    """Gradescope's results when grading could not run: a score of 0 and why."""
    report: dict[str, Any] = json_safe({"score": 0, "output": f"not graded: {reason}", "tests": []})
    return report


@dataclass(frozen=True)
class Row:
    """One learner's line in the class CSV."""

    learner: str
    name: str
    email: str
    result: LabResult | None
    error: str = ""
    collected_at: str = ""
    late: bool = False


def class_csv(lab_id: str, rows: list[Row]) -> str:
    """One row per learner (id, name, email), score, then each check's points."""
    ids = [check.id for check in LABS[lab_id].checks]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["learner", "name", "email", "score", "max_score", "collected_at", "late", "error", *ids])
    for row in rows:
        points = {c.id: c.score for c in row.result.checks} if row.result else {}
        writer.writerow([printable(v, newlines=False) for v in (row.learner, row.name, row.email)] + [
            row.result.score if row.result else 0, row.result.max_score if row.result else "",
            row.collected_at, "yes" if row.late else "", printable(row.error, newlines=False),
            *[points.get(i, "") for i in ids]])
    return out.getvalue()


def feedback_markdown(learner: str, result: LabResult, late: bool = False) -> str:
    """What a learner is sent: visible checks with their hints, hidden ones counted."""
    lines = [f"# {result.lab}: feedback for {learner}", "", result.summary(), ""]
    if late:
        lines += ["Your work changed after the deadline; it was graded as collected.", ""]
    lines += ["| | points | check |", "| --- | --- | --- |"]
    for check in result.visible:
        lines.append(f"| {check.outcome.value} | {check.score}/{check.counted_max} | "
                     f"{check.title.replace('|', '/')} (`{check.id}`) |")
    for check in result.visible:
        if check.outcome is Outcome.FAIL:
            lines += ["", f"## {check.id}", "", "```", check.hint, "```"]
    mismatches = [r for r in result.routes if not r.matches]
    if mismatches:
        lines += ["", "## Routes that did not behave as expected", ""]
        lines += [f"- from {r.source} to `{r.target}`: expected {r.expected.value}, observed "
                  f"{r.observed.value} ({r.detail})" for r in mismatches]
    return printable("\n".join(lines)) + "\n"
