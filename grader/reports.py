"""Renderings of a `LabResult`: JSON (Gradescope's shape), JUnit XML, terminal text.

JSON and JUnit are for instructors and CI and carry every check; the text report is for
the learner and never reveals a hidden check beyond counting it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from grader.result import LabResult

FORMATS = ("text", "json", "junit")


def render(result: LabResult, fmt: str) -> str:
    return {"text": to_text, "json": to_json, "junit": to_junit}[fmt](result)


def to_json(result: LabResult) -> str:
    return json.dumps({
        "lab": result.lab,
        "score": result.score,
        "max_score": result.max_score,
        "summary": result.summary(),
        "checks": [{
            "id": c.id, "title": c.title, "passed": c.passed, "score": c.score,
            "max_score": c.max_score, "hint": c.hint, "visibility": c.visibility,
            "findings": [f.as_dict() for f in c.findings],
        } for c in result.checks],
    }, indent=2) + "\n"


def to_junit(result: LabResult) -> str:
    suite = ET.Element("testsuite", name=result.lab, tests=str(len(result.checks)),
                       failures=str(sum(not c.passed for c in result.checks)), errors="0")
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=result.lab, name=check.id)
        ET.SubElement(case, "properties").extend([
            ET.Element("property", name="title", value=check.title),
            ET.Element("property", name="score", value=f"{check.score}/{check.max_score}"),
            ET.Element("property", name="visibility", value=check.visibility),
        ])
        if not check.passed:
            failure = ET.SubElement(case, "failure", message=check.hint.splitlines()[0])
            failure.text = check.hint
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def to_text(result: LabResult) -> str:
    lines = [f"{result.lab}: score {result.score}/{result.max_score} ({result.summary()})", ""]
    for check in result.visible:
        mark = "PASS" if check.passed else "FAIL"
        lines.append(f"  {mark}  {check.score}/{check.max_score}  {check.id}: {check.title}")
        for hint_line in check.hint.splitlines():
            lines.append(f"            {hint_line}")
    if result.hidden:
        lines += ["", f"  {len(result.hidden)} hidden check(s) count towards the score and are not shown."]
    return "\n".join(lines) + "\n"
