"""`firstapp class release DIR`: the learner edition runs, grades the visible checks, and
holds neither the reference answers nor the hidden checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HIDDEN_IDS = ("no-extra-exposure",)


def firstapp(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "firstapp.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("edition") / "course"
    run = firstapp("class", "release", str(target), cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return target


def learner_env(edition: Path) -> dict:
    """Runs the edition's own code, as a learner's clone would."""
    return {"PYTHONPATH": str(edition), "FIRSTAPP_HOME": str(edition), "FIRSTAPP_LAB_ANSWERS": ""}


def test_the_edition_withholds_answers_and_hidden_checks(edition):
    assert not (edition / "k8s" / "reference").exists() and not (edition / "grader" / "hidden.py").exists()
    assert not (edition / "tests").exists() and (edition / "lessons").is_dir() and (edition / "run-course").is_file()
    for path in edition.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert not any(secret in text for secret in HIDDEN_IDS), path
    given = (edition / "k8s" / "given" / "checkpoint-3.yaml").read_text()
    assert "kind: Service\n" not in given and "kind: Deployment" in given  # the lab's workloads, not its answer


def test_the_edition_grades_visible_checks_only(edition):
    reference = (ROOT / "k8s" / "reference" / "checkpoint-3.yaml").read_text()
    run = subprocess.run([sys.executable, "-m", "firstapp.cli", "grade", "checkpoint-3", "--static", "--format", "json"],
                         input=reference, capture_output=True, text=True, cwd=edition,
                         env={**os.environ, **learner_env(edition)}, timeout=120)
    assert run.returncode == 0, run.stderr
    import json

    report = json.loads(run.stdout)
    assert report["score"] == report["max_score"] == 12
    assert all(check["visibility"] == "visible" for check in report["checks"])


def test_the_answer_switch_finds_no_answers(edition):
    probe = "from firstapp import sample_app; sample_app.reference_objects('checkpoint-2')"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=edition,
                         env={**os.environ, **learner_env(edition)}, timeout=60)
    assert run.returncode != 0 and "learner edition" in run.stderr


def test_release_refuses_a_folder_in_use(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    run = firstapp("class", "release", str(tmp_path), cwd=ROOT)
    assert run.returncode == 2 and "is not empty" in run.stderr and (tmp_path / "notes.txt").read_text() == "mine"
