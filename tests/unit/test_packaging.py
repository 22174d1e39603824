"""The course as an installed package, not an editable checkout: the wheel holds the
three packages, static grading works from any folder, and the course's files (k8s/,
apps/) are found through FIRSTAPP_HOME or the folder a learner runs it in, with a clear
message when they cannot be."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_CHECKPOINT_3, REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The project built as a wheel and installed (not editable) into a folder of its own."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(work), str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next(work.glob("k8s_first_app-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if n.endswith(".py")} == {"course", "firstapp", "grader"}
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return target


def run(installed: Path, code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "FIRSTAPP_HOME"} | env
    environment["PYTHONPATH"] = str(installed)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=120)


def test_static_grading_from_anywhere(installed, tmp_path):
    code = (f"import sys, course\nassert course.__file__.startswith({str(installed)!r}), course.__file__\n"
            "from firstapp.cli import main\n"
            f"sys.exit(main(['grade', 'checkpoint-3', '--static', '--manifests', {str(REFERENCE_CHECKPOINT_3)!r}]))")
    done = run(installed, code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "visible checks: 12/12 passed; 1 hidden check" in done.stdout


def test_course_files_are_found_or_named(installed, tmp_path):
    show = "from course.paths import course_home\nprint(course_home())"
    assert run(installed, show, REPO / "labs").stdout.strip() == str(REPO)  # inside a clone
    assert run(installed, show, tmp_path, FIRSTAPP_HOME=str(REPO)).stdout.strip() == str(REPO)
    lost = run(installed, "from course.paths import course_home\ntry:\n    course_home()\nexcept Exception as e:\n"
                          "    print(type(e).__name__, e)", tmp_path)
    assert lost.stdout.startswith("UnusableInput") and "FIRSTAPP_HOME" in lost.stdout
    wrong = run(installed, show, tmp_path, FIRSTAPP_HOME=str(tmp_path))
    assert wrong.returncode != 0 and "is not a copy of the course" in wrong.stderr
