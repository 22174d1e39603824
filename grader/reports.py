"""Renderings of a `LabResult`: JSON (Gradescope's shape), JUnit XML, terminal text,
HTML for notebooks, and CSV for a batch of learners.

JSON, JUnit and CSV are for instructors and CI and carry every check; the text and
HTML reports are for the learner and never reveal a hidden check beyond counting it.

A report echoes what a learner wrote; every renderer writes each string through
`findings.printable`, so a report is always well-formed (JSON any parser reads, XML
1.0, text without terminal escapes or control characters) whatever the submission.
"""

from __future__ import annotations

import csv
import html
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

from grader.findings import json_safe, printable
from grader.gradebook import gradescope
from grader.live import Cell
from grader.result import CheckResult, LabResult, Outcome


def render(result: LabResult, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "junit": to_junit, "gradescope": to_gradescope}[fmt](result)


def to_gradescope(result: LabResult) -> str:
    """Gradescope's own `results.json`."""
    return json.dumps(gradescope(result), indent=2, allow_nan=False) + "\n"


def as_dict(result: LabResult) -> dict[str, Any]:
    """The JSON report's data: every string printable, nothing JSON cannot hold."""
    report: dict[str, Any] = json_safe(_as_dict(result))
    return report


def _as_dict(result: LabResult) -> dict[str, Any]:
    return {
        "lab": result.lab,
        **({"namespace": result.namespace} if result.namespace else {}),
        "score": result.score,
        "max_score": result.max_score,
        "summary": result.summary(),
        "checks": [{
            "id": c.id, "title": c.title, "passed": c.outcome is Outcome.PASS, "score": c.score,
            "max_score": c.counted_max, "hint": c.hint, "visibility": c.visibility,
            "findings": [f.as_dict() for f in c.findings],
        } for c in result.checks],
        "routes": [{"from": r.source, "to": r.target, "tier": r.tier, "expected": r.expected.value,
                    "observed": r.observed.value, "detail": r.detail} for r in result.routes],
        **({"connectivity": [{"from": c.source, "to": c.target, "tier": c.destination, "expected": _reach(c.expected),
                              "observed": _reach(c.observed), "detail": c.detail, "policies": c.reason}
                             for c in result.connectivity]} if result.connectivity else {}),
    }


def _reach(allowed: bool | None) -> str:
    return "not probed" if allowed is None else "allowed" if allowed else "blocked"


def connectivity_lines(cells: list[Cell], limit: int = 200) -> list[str]:
    """The connectivity truth table as text: one line per cell, from, to, expected and
    observed; a cell that differs also says why the policies allow or block it."""
    if not cells:
        return []
    lines = ["", "  connectivity (expected vs observed, real packets):"]
    width = max(len(c.target) for c in cells)
    for cell in cells:
        verdict = "ok " if cell.matches else "MISMATCH"
        lines.append(f"    {verdict:<8} {cell.source:<5} -> {cell.target:<{width}}  expected {_reach(cell.expected):<7} "
                     f"observed {_reach(cell.observed):<10} {cell.detail[:limit]}")
        if not cell.matches:
            lines.append(f"             policies: {cell.reason[:limit]}")
    return lines


def connectivity_html(cells: list[Cell], limit: int = 200) -> str:
    """The connectivity truth table as an HTML table, with the policies' reason per cell."""
    if not cells:
        return ""
    rows = "".join(
        f"<tr><td>{'&#10004;' if c.matches else '&#10008;'}</td><td>{html.escape(c.source)}</td>"
        f"<td><code>{html.escape(c.target)}</code></td><td>{_reach(c.expected)}</td><td>{_reach(c.observed)}</td>"
        f"<td>{html.escape(c.detail[:limit])}</td><td>{html.escape(c.reason[:limit])}</td></tr>" for c in cells)
    return ("<h4>Connectivity: expected vs observed (real packets)</h4><table><tr><th></th><th>from</th><th>to</th>"
            f"<th>expected</th><th>observed</th><th>detail</th><th>why, by your policies</th></tr>{rows}</table>")


def to_json(result: LabResult) -> str:
    return json.dumps(as_dict(result), indent=2, allow_nan=False) + "\n"


def batch_json(results: dict[str, LabResult | str]) -> str:
    """One document for a class: each namespace's result, or why it could not be graded."""
    return json.dumps([{"namespace": printable(ns), **as_dict(r)} if isinstance(r, LabResult)
                       else {"namespace": printable(ns), "error": printable(r)} for ns, r in results.items()],
                      indent=2, allow_nan=False) + "\n"


def batch_csv(results: dict[str, LabResult | str]) -> str:
    """One row per learner namespace: score, then each check's points."""
    ids = next((([c.id for c in r.checks]) for r in results.values() if isinstance(r, LabResult)), [])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["namespace", "score", "max_score", "error", *map(printable, ids)])
    for namespace, result in results.items():
        if isinstance(result, LabResult):
            points = {c.id: c.score for c in result.checks}
            writer.writerow([printable(namespace), result.score, result.max_score, "",
                             *[points.get(i, "") for i in ids]])
        else:
            writer.writerow([printable(namespace), "", "", printable(result), *[""] * len(ids)])
    return out.getvalue()


def to_junit(result: LabResult) -> str:
    suite = ET.Element("testsuite", name=printable(result.lab), tests=str(len(result.checks)),
                       failures=str(sum(not c.passed for c in result.checks)), errors="0",
                       skipped=str(sum(bool(c.skipped) for c in result.checks)))
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=printable(result.lab), name=printable(check.id))
        ET.SubElement(case, "properties").extend([
            ET.Element("property", name="title", value=printable(check.title)),
            ET.Element("property", name="score", value=f"{check.score}/{check.counted_max}"),
            ET.Element("property", name="visibility", value=printable(check.visibility)),
        ])
        if check.skipped:
            ET.SubElement(case, "skipped", message=printable(check.skipped, newlines=False))
        elif not check.passed:
            hint = printable(check.hint)
            failure = ET.SubElement(case, "failure", message=hint.splitlines()[0])
            failure.text = hint
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _mark(check: CheckResult) -> str:
    return check.outcome.value


def to_text(result: LabResult) -> str:
    where = f" in namespace {result.namespace}" if result.namespace else ""
    lines = [f"{result.lab}{where}: {result.summary()}", ""]
    for check in result.visible:
        lines.append(f"  {_mark(check)}  {check.score}/{check.counted_max}  {check.id}: {check.title}")
        for hint_line in printable(check.hint).splitlines():
            lines.append(f"            {hint_line}")
    if result.hidden:
        lines += ["", f"  {len(result.hidden)} hidden check(s) count towards the score and are not shown."]
    if result.routes:
        lines += ["", "  routing (expected vs observed):"]
        width = max(len(r.target) for r in result.routes)
        for route in result.routes:
            verdict = "ok " if route.matches else "MISMATCH"
            lines.append(f"    {verdict:<8} {route.source:<9} -> {route.target:<{width}}  "
                         f"expected {route.expected.value:<7} observed {route.observed.value:<10} {route.detail}")
    lines += connectivity_lines(result.connectivity)
    return printable("\n".join(lines)) + "\n"


def to_html(result: LabResult) -> str:
    """The learner's table in a notebook: checks with points and hints, then routing."""
    return printable(_html(result))


def _html(result: LabResult) -> str:
    colour = {"PASS": "#0a0", "FAIL": "#c00", "SKIP": "#888"}
    rows = "".join(
        f"<tr><td style='color:{colour[_mark(c)]};font-weight:bold'>{_mark(c)}</td><td>{c.score}/{c.counted_max}</td>"
        f"<td>{html.escape(c.title)}<br><code>{html.escape(c.id)}</code></td>"
        f"<td><pre style='white-space:pre-wrap;margin:0'>{html.escape(c.hint)}</pre></td></tr>"
        for c in result.visible)
    table = (f"<h4>{html.escape(result.lab)}: {html.escape(result.summary())}</h4>"
             f"<table><tr><th></th><th>points</th><th>check</th><th>hint</th></tr>{rows}</table>")
    if result.routes:
        route_rows = "".join(
            f"<tr><td>{'&#10004;' if r.matches else '&#10008;'}</td><td>{html.escape(r.source)}</td>"
            f"<td><code>{html.escape(r.target)}</code></td><td>{r.expected.value}</td><td>{r.observed.value}</td>"
            f"<td>{html.escape(r.detail)}</td></tr>" for r in result.routes)
        table += ("<h4>Routing: expected vs observed</h4><table><tr><th></th><th>from</th><th>to</th>"
                  f"<th>expected</th><th>observed</th><th>detail</th></tr>{route_rows}</table>")
    return table + connectivity_html(result.connectivity)
