"""`firstapp grade --static` through a real subprocess: verdicts, formats, exit codes,
and no traceback for any unusable input."""

from __future__ import annotations

import json
import os
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
    assert report["summary"].startswith("visible checks: 12/12 passed; 1 hidden check")


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
    assert "visible checks: 12/12 passed; 1 hidden check" in text
    assert "db-debug" not in text and "all passed" not in text
    assert "12/13" not in text and "score" not in text.splitlines()[0]  # no total that gives the hidden check away


@pytest.mark.parametrize("lab", ["checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4"])
def test_a_submission_with_nothing_to_grade_scores_0(tmp_path, lab):
    """A check over no objects gives no points: nothing the lab asks for, nothing scored."""
    unrelated = tmp_path / "configmap.yaml"
    unrelated.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n")
    report = json.loads(firstapp("grade", lab, "--static", "--manifests", str(unrelated), "--format", "json").stdout)
    passed = [c["id"] for c in report["checks"] if c["passed"]]
    assert passed == ["manifests-valid"], passed  # a valid ConfigMap, and nothing else
    assert report["score"] == 1


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


# Issue #10, the static path: one case per class of malformed input, through the real
# command. Unusable input exits 2 with one message; what Kubernetes would refuse in an
# object fails a check (exit 1); no report is ever malformed and nothing is a traceback.

WEB_PORT = "{name: http, port: 8080, targetPort: http, nodePort: 30080}"


def reference_with(web_port: str) -> bytes:
    text = REFERENCE_CHECKPOINT_3.read_text()
    assert WEB_PORT in text
    return text.replace(WEB_PORT, web_port).encode()


def json_service(spec: str, kind: str = '"Service"') -> bytes:
    return ('{"apiVersion": "v1", "kind": ' + kind + ', "metadata": {"name": "web"}, "spec": ' + spec + "}").encode()


UNUSABLE = {
    "NUL after the first buffer": (REFERENCE_CHECKPOINT_3.read_bytes() + b"#" * 9000 + b"\n\x00\n", "NUL byte"),
    "C1 control after the first buffer": (REFERENCE_CHECKPOINT_3.read_bytes() + b"#" * 9000 + b"\n# \xc2\x90\n",
                                          "U+0090"),
    "deep JSON under the recursion limit": (json_service("[" * 600 + "]" * 600), "nesting deeper than 64"),
    "integer of 5000 digits": (reference_with("{name: http, port: " + "9" * 5000 + ", targetPort: http}"), "64 bits"),
    "hex integer of 5000 digits": (reference_with("{name: http, port: 0x" + "f" * 5000 + "}"), "64 bits"),
    "JSON integer of 5000 digits": (json_service('{"ports": [{"port": ' + "9" * 5000 + "}]}"), "64 bits"),
    "!!binary": (reference_with("{name: http, port: !!binary aGVsbG8=}"), "!!binary"),
    "!!set": (reference_with("{name: http, port: !!set {a, b}}"), "!!set"),
    "YAML NaN": (reference_with("{name: http, port: 8080, nodePort: .nan}"), "NaN"),
    "JSON NaN": (json_service('{"ports": [{"port": NaN}]}'), "NaN"),
    "duplicate key": (reference_with("{name: http, port: 8080, port: 8081}"), 'duplicate key "port"'),
    "duplicate object": (REFERENCE_CHECKPOINT_3.read_bytes() + b"\n---\n" + REFERENCE_CHECKPOINT_3.read_bytes(),
                         "submitted twice"),
    "1,001 objects": ("".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n"
                              for i in range(1001)).encode(), "more than 1,000"),
    "over 1 MiB": (REFERENCE_CHECKPOINT_3.read_bytes() + b"#" * (1024 * 1024), "larger than 1 MiB"),
}


@pytest.mark.parametrize("name", list(UNUSABLE))
def test_each_class_of_unusable_input_exits_2_with_one_message(name):
    stdin, words = UNUSABLE[name]
    run = firstapp("grade", "checkpoint-3", "--static", "--format", "json", stdin=stdin)
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    message = run.stderr.decode()
    assert words in message and message.startswith("firstapp grade: <stdin>")
    assert message.count("\n") == 1 and len(message) < 600, message
    assert b"Traceback" not in run.stderr + run.stdout and run.stdout == b""


GRADED = {
    # name: (submission, words in the text report)
    "very long kind": (b"apiVersion: v1\nkind: " + b"K" * 5000 + b"\nmetadata: {name: web}\n", "(5,000 characters)"),
    "kind with a NUL": (json_service("{}", kind='"Ser\\u0000vice"'), "Ser\\x00vice"),
    "ports: 5": (reference_with("5").replace(b"ports:\n    - 5", b"ports: 5"), "found integer 5"),
    "containers: 5": (b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {selector: {matchLabels: "
                      b"{app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: 5}}}\n",
                      "spec.template.spec.containers: wrong type"),
    "unquoted date": (reference_with("{name: http, port: 8080, targetPort: http, nodePort: 2024-01-01}"),
                      "found string '2024-01-01'"),
    "lone surrogate": (json_service('{"selector": {"app": "w\\ud800"}, "ports": [{"port": 8080}]}'), "w\\ud800"),
    "ANSI escapes": (reference_with('{name: http, port: 8080, targetPort: http, nodePort: "\\e[2K\\r  \\e[32mPASS\\e[0m"}'),
                     "\\x1b[2K\\r  \\x1b[32mPASS"),
    "control characters": (reference_with('{name: http, port: 8080, targetPort: http, nodePort: "\\x01\\x0b\\x85\\u2028"}'),
                           "\\x01\\x0b\\x85\\u2028"),
    "quoted numeric targetPort": (reference_with('{name: http, port: 8080, targetPort: "8080", nodePort: 30080}'),
                                  'targetPort: a number in quotes'),
    "port above 65535": (reference_with("{name: http, port: 70000, targetPort: http, nodePort: 30080}"),
                         "expected 1-65535, found 70000"),
}


@pytest.mark.parametrize("name", list(GRADED))
def test_each_class_of_malformed_object_is_a_finding_in_well_formed_reports(name):
    stdin, words = GRADED[name]
    run = firstapp("grade", "checkpoint-3", "--static", stdin=stdin)
    assert run.returncode == 1, (run.returncode, run.stderr[-2000:])
    text = run.stdout.decode("utf-8")
    assert words in text, text
    assert not any((ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in text)
    report = firstapp("grade", "checkpoint-3", "--static", "--format", "json", stdin=stdin)
    assert report.returncode == 1
    json.loads(report.stdout, parse_constant=lambda constant: pytest.fail(f"{constant} in the JSON report"))
    junit = firstapp("grade", "checkpoint-3", "--static", "--format", "junit", stdin=stdin)
    assert junit.returncode == 1
    ET.fromstring(junit.stdout)
    assert b"Traceback" not in run.stderr + report.stderr + junit.stderr


def test_a_submission_folder_refuses_links_pipes_and_too_much(tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "checkpoint-3.yaml").write_bytes(REFERENCE_CHECKPOINT_3.read_bytes())
    (tmp_path / "outside.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: secret-outside}\n")
    (folder / "z.yaml").symlink_to(tmp_path / "outside.yaml")
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(folder))
    assert run.returncode == 2 and b"z.yaml: a symbolic link" in run.stderr and b"secret-outside" not in run.stdout
    (folder / "z.yaml").unlink()
    (folder / "z.yaml").symlink_to("/proc/kmsg")  # as root this used to hang the grader
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(folder))
    assert run.returncode == 2 and b"symbolic link" in run.stderr
    (folder / "z.yaml").unlink()
    os.mkfifo(folder / "z.yaml")
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(folder))
    assert run.returncode == 2 and b"not a regular file (a named pipe)" in run.stderr
    (folder / "z.yaml").unlink()
    for index in range(3):
        (folder / f"big-{index}.yaml").write_bytes(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{index}}}\n".encode() + b"#" * (400 * 1024) + b"\n")
    run = firstapp("grade", "checkpoint-3", "--static", "--manifests", str(folder))
    assert run.returncode == 2 and b"add up to more than 1 MiB" in run.stderr
    assert b"Traceback" not in run.stderr


def test_static_grading_for_a_class_learners_host_and_node_port(tmp_path: Path):
    """A class learner grades their YAML without the cluster, for the host and node port
    their lab printed; without them the solo learner's are expected, and the check says so."""
    import yaml

    from tests.checkpoint4 import hosted, reference

    host = "alice.firstapp.localhost"
    theirs = tmp_path / "alice.yaml"
    theirs.write_text(yaml.safe_dump_all(hosted(reference(), host)))
    run = firstapp("grade", "checkpoint-4", "--static", "--manifests", str(theirs), "--host", host, "--format", "json")
    assert run.returncode == 0, run.stdout.decode() + run.stderr.decode()
    solo = json.loads(firstapp("grade", "checkpoint-4", "--static", "--manifests", str(theirs),
                               "--format", "json").stdout)
    (published,) = [c for c in solo["checks"] if c["id"] == "web-published"]
    assert not published["passed"] and "firstapp.localhost" in json.dumps(published["findings"])

    port = tmp_path / "port.yaml"
    port.write_text(REFERENCE_CHECKPOINT_3.read_text().replace("30080", "30101"))
    assert firstapp("grade", "checkpoint-3", "--static", "--manifests", str(port), "--node-port", "30101").returncode == 0
    assert firstapp("grade", "checkpoint-3", "--static", "--manifests", str(port)).returncode == 1


@pytest.mark.parametrize(("args", "words"), [
    (["--static", "--node-port", "80"], "--node-port 80: expected a node port from 30000 to 32767"),
    (["--static", "--host", "Alice_firstapp"], "--host 'Alice_firstapp': expected a lowercase DNS name"),
    (["--host", "alice.firstapp.localhost"], "--node-port and --host are for --static"),
])
def test_a_bad_place_for_static_grading_is_named(args, words):
    run = firstapp("grade", "checkpoint-4", *args, "--manifests", str(REFERENCE_CHECKPOINT_3))
    assert run.returncode == 2 and words in run.stderr.decode() and b"Traceback" not in run.stderr


@pytest.mark.parametrize("action", [["create", "--roster", "roster.csv"], ["delete"], ["collect", "checkpoint-3"]])
def test_class_actions_without_a_cluster_name_the_kubeconfig(action, tmp_path, monkeypatch):
    """The instructor's commands reach the cluster check (the grade-only flags once
    broke every one of them with an AttributeError before it)."""
    (tmp_path / "roster.csv").write_text("alice,Alice,alice@example.org\n")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.chdir(tmp_path)
    run = firstapp("class", "--class-dir", str(tmp_path / "class"), *action)
    message = run.stderr.decode()
    assert run.returncode == 2 and "no usable kubeconfig at" in message and "no-kubeconfig" in message, message
    assert b"Traceback" not in run.stderr
