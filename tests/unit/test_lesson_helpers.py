"""The lessons' helpers that need no cluster: the live status line (what JupyterLab and
nbval keep of it), the provider steps' output sent to a notebook's status line, and
clear messages for manifests a lesson cannot read."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from contextlib import redirect_stdout

import pytest

from course.errors import UnusableInput
from firstapp.providers.base import output_to, run_streamed
from firstapp.workspace import YamlShown, _objects, status_line, ticking

CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)  # nbval's (and a terminal's) reading of "\r"


def test_a_status_line_leaves_only_what_follows_it():
    out = io.StringIO()
    with redirect_stdout(out):
        with status_line("waiting") as show:
            show("0/3 ready")
            show("a much longer detail: 2/3 ready")
        print("3 pods ready")
    assert "\r" in out.getvalue()
    assert CARRIAGE_RETURN.sub("", out.getvalue()) == "3 pods ready\n"


def test_a_status_line_never_shown_writes_nothing():
    out = io.StringIO()
    with redirect_stdout(out), status_line("waiting"):
        pass
    assert out.getvalue() == ""


def test_a_long_step_ticks_with_its_latest_output_line():
    out = io.StringIO()
    lines: list[str] = []
    with redirect_stdout(out):
        with output_to(lines.append), ticking("working", lambda: lines[-1] if lines else "", every=0.1):
            run_streamed([sys.executable, "-c", "import time; print('building etcd', flush=True); time.sleep(0.5)"])
    assert lines == ["building etcd"]
    assert re.search(r"working: building etcd \(\d+ s\)", out.getvalue())


def test_a_failing_step_fails_with_its_command_when_captured():
    with output_to(lambda line: None), pytest.raises(subprocess.CalledProcessError):
        run_streamed([sys.executable, "-c", "import sys; print('no'); sys.exit(3)"])


def test_run_streamed_passes_output_through_without_a_sink(capfd):
    run_streamed([sys.executable, "-c", "print('through')"])
    assert "through" in capfd.readouterr().out


@pytest.mark.parametrize("manifests, message", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n", "cannot read the YAML"),
    ("apiVersion: v1\nspec: {}\n", "every document needs a kind and a metadata.name"),
    ("k8s/reference/no-such-file.yaml", "no such file in the course folder"),
])
def test_manifests_a_lesson_cannot_read_are_one_clear_message(manifests, message):
    with pytest.raises(UnusableInput, match=re.escape(message)):
        _objects(manifests)


def test_yaml_is_shown_collapsed_in_jupyterlab_and_whole_as_text():
    shown = YamlShown([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}], "k8s/x.yaml")
    assert shown._repr_html_().startswith("<details><summary>k8s/x.yaml (click to show the YAML)</summary><pre>")
    assert "kind: Pod" in repr(shown)


def test_ticking_stops_its_thread():
    out = io.StringIO()
    with redirect_stdout(out), ticking("working", lambda: "", every=0.05):
        time.sleep(0.2)
    assert CARRIAGE_RETURN.sub("", out.getvalue()).strip() == ""


def class_workspace(node_port: int):
    """A lesson's Workspace as a class learner has it (no cluster needed for these parts)."""
    from course.place import Place
    from firstapp.workspace import Workspace

    space = object.__new__(Workspace)
    space.place = Place("ada-lesson-3", node_port, learner="ada")
    space.namespace = space.place.namespace
    return space


def test_in_a_class_the_course_port_becomes_the_learners_own(capsys):
    from firstapp import design

    space = class_workspace(31234)
    taken = []
    space.take_node_port = lambda quiet=False: taken.append(quiet)  # the cluster part: tests/cluster/test_class_mode.py
    services = design.services(design.COURSE_DECISION)
    placed = space._place_node_ports(services)
    assert [p.get("nodePort") for s in placed for p in s["spec"]["ports"]] == [31234, None, None]
    assert services[0]["spec"]["ports"][0]["nodePort"] == 30080  # the caller's objects are left as they were
    assert taken == [True] and "node port 30080 is yours as 31234 in this class" in capsys.readouterr().out
    space.give_back_node_port()  # nothing was taken in this kernel: nothing to give back, nothing asked


@pytest.mark.parametrize("kind, replicas", [("Pod", 1), ("Deployment", -1), ("Deployment", "3")])
def test_scaling_what_cannot_be_scaled_is_one_clear_message(kind, replicas):
    with pytest.raises(UnusableInput, match="whole number of replicas"):
        class_workspace(31234).scale("api", replicas, kind=kind)
