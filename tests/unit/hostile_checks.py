"""The property every hostile submission must keep (tests/unit/test_hostile_inputs.py),
importable without Hypothesis or pytest, so that a fresh process can measure one
submission's time and memory cheaply."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

from course.errors import UnusableInput
from grader import reports
from grader.loading import YAML_LIBRARY_FAILED, load_text
from grader.result import LabResult
from grader.run import grade_static


def _no_constant(constant: str) -> None:
    raise AssertionError(f"{constant} in a JSON report")


# What a report may hold: printable text and newlines; what it must never hold.
FORBIDDEN = {chr(c) for c in (*range(0x00, 0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0))} | {
    "\u2028", "\u2029", "\u202e", "\ufeff", "\ufffe", "\uffff"}


def assert_printable(text: str, where: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in text if c in FORBIDDEN or 0xD800 <= ord(c) <= 0xDFFF})
    assert not bad, f"{where} holds {bad}"
    text.encode("utf-8")  # strict: no lone surrogate


def assert_well_formed(result: LabResult) -> None:
    text = reports.render(result, "text")
    assert_printable(text, "the text report")
    data = json.loads(reports.render(result, "json"),
                      parse_constant=_no_constant)
    assert len(data["checks"]) == len(result.checks) and data["score"] == result.score
    assert_printable(json.dumps(data, ensure_ascii=False), "the JSON report's strings")
    junit = reports.render(result, "junit")
    ET.fromstring(junit.encode("utf-8"))
    assert_printable(junit, "the JUnit report")
    assert_printable(reports.to_html(result), "the HTML report")
    json.loads(reports.batch_json({"learner": result, "other": "could not be graded"}),
               parse_constant=_no_constant)
    for row in csv.reader(io.StringIO(reports.batch_csv({"learner": result}))):
        assert_printable("".join(row), "the CSV report")


def grade_everything(data: bytes | str, lab: str) -> None:
    """The property: a well-formed result, or one printable message; nothing else."""
    try:
        result = grade_static(lab, load_text(data, "hostile.yaml"))
    except UnusableInput as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 2000, message
        assert YAML_LIBRARY_FAILED not in message, f"a failure no guard names: {message}"
        assert_printable(message, "the message")
        return
    assert_well_formed(result)
