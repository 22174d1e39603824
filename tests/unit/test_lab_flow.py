"""The pure parts of a lab notebook's flow (firstapp/lab.py, firstapp/lab_editor.py,
course/applying.py): the pristine starters Reset puts back, the reference with the
learner's node port, telling an immutable-field refusal from a mistake, and the editor
with line numbers, all without a cluster."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from course.applying import is_immutable_refusal
from course.errors import Forbidden, Invalid
from course.labs import LABS
from course.place import Place
from firstapp import lab as lab_module
from firstapp.lab_editor import LabEditor, numbered
from tests.conftest import REPO


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_reset_puts_back_the_starter_as_committed(lab_id):
    starter = LABS[lab_id].starter
    assert lab_module.starter_text(lab_id).startswith("# Checkpoint")
    if shutil.which("git") and (REPO / ".git").exists():
        committed = subprocess.run(["git", "show", f"HEAD:{starter}"], cwd=REPO, capture_output=True, text=True)
        if committed.returncode == 0:
            assert lab_module.starter_text(lab_id) == committed.stdout


def test_the_reference_carries_the_learners_node_port_and_only_services_where_the_lab_gives_workloads():
    text = lab_module.reference_text("checkpoint-3", node_port=30123)
    objects = [o for o in yaml.safe_load_all(text) if o]
    assert {o["kind"] for o in objects} == {"Service"}
    web = next(o for o in objects if o["metadata"]["name"] == "web")
    assert web["spec"]["ports"][0]["nodePort"] == 30123 and "30080" not in text
    assert {o["kind"] for o in yaml.safe_load_all(lab_module.reference_text("checkpoint-2")) if o} == \
           {"Deployment", "StatefulSet"}


def test_an_immutable_field_refusal_is_told_from_a_mistake():
    pod = Invalid("apply Pod/api", 422, 'Pod "api" is invalid: spec: Forbidden: pod updates may not change fields '
                  "other than `spec.containers[*].image`")
    statefulset = Invalid("apply StatefulSet/db", 422, 'StatefulSet.apps "db" is invalid: spec: Forbidden: updates '
                          "to statefulset spec for fields other than 'replicas' are forbidden")
    service = Invalid("apply Service/s", 422, 'Service "s" is invalid: spec.clusterIPs[0]: Invalid value: ["None"]: '
                      "may not change once set")
    selector = Invalid("apply Deployment/web", 422, 'Deployment.apps "web" is invalid: spec.selector: Invalid value: '
                       "...: field is immutable")
    mistake = Invalid("apply Deployment/web", 422, 'Deployment.apps "web" is invalid: spec.template.metadata.labels: '
                      "Invalid value: ...: `selector` does not match template `labels`")
    assert all(is_immutable_refusal(e) for e in (pod, statefulset, service, selector))
    assert not is_immutable_refusal(mistake)
    assert not is_immutable_refusal(Forbidden("apply Pod/x", 403, "field is immutable"))  # never a 403
    assert lab_module._first_clause(pod).startswith("spec: Forbidden: pod updates may not change")


def fake_lab(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(file=tmp_path / "pods.yaml", namespace="lab-checkpoint-2", checkpoint="checkpoint-2",
                           lab=LABS["checkpoint-2"],
                           place=Place("lab-checkpoint-2", 30080))


def test_the_editor_numbers_its_lines_and_follows_the_text(tmp_path):
    editor = LabEditor(fake_lab(tmp_path), "a: 1\nb: 2\n")
    assert editor.gutter.value == "1\n2\n3" and editor.text.rows == 4
    editor.value = "a: 1\n" * 30
    assert editor.gutter.value.split("\n")[-1] == "31" and editor.gutter.rows == editor.text.rows == 32
    assert numbered("x\ny") == "   1 | x\n   2 | y"
    assert "   2 | b" not in repr(editor) and "  30 | a: 1" in repr(editor)
    assert editor.disrupt_button is not None  # checkpoint 2: delete one web pod and watch


def test_reset_asks_first_and_says_how(tmp_path):
    lab = lab_module.Lab.__new__(lab_module.Lab)
    lab.checkpoint, lab.lab, lab.file = "checkpoint-1", LABS["checkpoint-1"], tmp_path / "pods.yaml"
    lab.place = Place("lab-checkpoint-1", 30080)
    message = lab.reset()
    assert "lab.reset(confirm=True)" in message and not lab.file.exists()


def test_apply_messages_keep_their_layout_in_the_notebook():
    attempt = lab_module.Attempt(messages=["not applied: p.yaml: YAML syntax error at line 2, column 3", "     2 | a: <b>",
                                           "           ^"])
    shown = attempt._repr_html_()
    assert shown.startswith("<pre class='firstapp-apply'") and "a: &lt;b&gt;" in shown and "\n           ^" in shown
