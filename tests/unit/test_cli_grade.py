"""`firstapp grade --static` through a real subprocess: verdicts, formats, exit codes,
and no traceback for any unusable input."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_CHECKPOINT_3

CONSOLE_SCRIPT = Path(sys.executable).with_name("firstapp")


def firstapp(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    command = [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.exists() else [sys.executable, "-m", "firstapp.cli"]
    return subprocess.run(command + list(args), input=stdin, capture_output=True, timeout=60)


def test_reference_passes_with_exit_0_and_json_shape():
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(REFERENCE_CHECKPOINT_3), "--format", "json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["lab"] == "checkpoint-3" and report["score"] == report["max_score"] == 13
    assert set(report["checks"][0]) >= {"id", "title", "passed", "score", "max_score", "hint", "visibility"}
    assert "visible checks passed" in report["summary"]


def test_mistake_exits_1_with_hint_in_text_and_junit(tmp_path):
    broken = REFERENCE_CHECKPOINT_3.read_text().replace("nodePort: 30080", "nodePort: 30099")
    run = firstapp("grade", "checkpoint-3", "--static", stdin=broken.encode())
    assert run.returncode == 1
    text = run.stdout.decode()
    assert "FAIL" in text and "Service/web spec.ports[0].nodePort" in text and "expected 30080, found 30099" in text
    out = tmp_path / "report.xml"
    run = firstapp("grade", "checkpoint-3", "--static", "--format", "junit", "--output", str(out), stdin=broken.encode())
    assert run.returncode == 1 and run.stdout == b""
    cases = {case.get("name"): case for case in ET.parse(out).getroot().iter("testcase")}
    assert cases["web-node-port"].find("failure") is not None
    assert cases["web-service-type"].find("failure") is None


def test_hidden_check_is_counted_but_not_revealed_in_text():
    extra = REFERENCE_CHECKPOINT_3.read_text() + (
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: db-debug}\n"
        "spec: {type: NodePort, selector: {app: db}, ports: [{port: 6379}]}\n")
    run = firstapp("grade", "checkpoint-3", "--static", stdin=extra.encode())
    assert run.returncode == 1
    text = run.stdout.decode()
    assert "12 of 12 visible checks passed" in text and "db-debug" not in text and "all passed" not in text


@pytest.mark.parametrize("stdin, words", [
    (b"", "empty input"),
    (b"\xc3\x28 bad utf8", "not UTF-8"),
    (b"apiVersion: v1\nkind: Service\n  bad: indent\n", "line 3"),
    (b"kind: Service\n", "no apiVersion"),
    (b"a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
     "refused"),
])
def test_unusable_input_exits_2_without_traceback(stdin, words):
    run = firstapp("grade", "checkpoint-3", "--static", stdin=stdin)
    assert run.returncode == 2
    assert words in run.stderr.decode()
    assert b"Traceback" not in run.stderr + run.stdout


def test_unknown_lab_and_missing_file_exit_2(tmp_path):
    run = firstapp("grade", "checkpoint-9", "--static", "--manifests", str(REFERENCE_CHECKPOINT_3))
    assert run.returncode == 2 and b"unknown lab 'checkpoint-9'" in run.stderr
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(tmp_path / "missing.yaml"))
    assert run.returncode == 2 and b"no such file" in run.stderr
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(REFERENCE_CHECKPOINT_3),
                   "--output", str(tmp_path / "no-such-dir" / "r.json"))
    assert run.returncode == 2 and b"cannot write the report" in run.stderr and b"Traceback" not in run.stderr


def test_debug_shows_the_traceback_of_an_unusable_input(tmp_path):
    run = firstapp("--debug", "grade", "checkpoint-3", "--static", "--manifests", str(tmp_path / "missing.yaml"))
    assert run.returncode == 2
    assert b"Traceback" in run.stderr and b"FileNotFoundError" in run.stderr  # the cause is kept
    assert run.stderr.rstrip().endswith(b"no such file or directory")
