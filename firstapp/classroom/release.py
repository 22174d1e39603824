"""The learner edition of the course (`firstapp class release DIR`): everything a learner
runs, without the reference answers, the answer switch's answers or the hidden checks.

The release checks itself before it returns: no file in it may contain a hidden
check's id or a line of a reference answer that the learner's starter does not have."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from course.errors import UnusableInput
from course.labs import LABS
from course.paths import course_home
from firstapp import sample_app

# What a learner needs; everything else (tests, CI, benchmarks, reference answers,
# hidden checks, caches) stays with the instructor.
SHIPPED = ("README.md", "pyproject.toml", "run-course", "course", "firstapp", "grader", "lessons", "labs",
           "k8s", "apps", "scripts")
WITHHELD = ("k8s/reference", "grader/hidden.py")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


def release(target: Path) -> list[str]:
    """Writes the learner edition into `target` (new or empty); returns what it withheld."""
    from grader import hidden

    if target.exists() and any(target.iterdir()):
        raise UnusableInput(f"{target} is not empty; release into a new folder")
    home = course_home()
    if target.resolve().is_relative_to(home):
        raise UnusableInput(f"{target} is inside the course folder {home}; release outside it")
    target.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        source = home / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=IGNORED, symlinks=True)
        else:
            shutil.copy2(source, target / name)
    for withheld in WITHHELD:
        path = target / withheld
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    given = target / sample_app.GIVEN
    given.mkdir(parents=True, exist_ok=True)
    for lab in LABS.values():
        if lab.services_only:
            (given / f"{lab.id}.yaml").write_text(yaml.safe_dump_all(sample_app.given_objects(lab.id), sort_keys=False))
    _check(target, [check.id for lab_id in LABS for check in hidden.checks(lab_id)])
    return list(WITHHELD)


def _check(target: Path, secrets: list[str]) -> None:
    """Refuses a release in which a hidden check can still be read."""
    for path in target.rglob("*"):
        if path.is_file() and not path.is_symlink():
            text = path.read_bytes().decode("utf-8", "replace")
            leaked = [secret for secret in secrets if secret in text]
            if leaked:
                raise UnusableInput(f"the release would show the hidden check {leaked[0]!r} in "
                                    f"{path.relative_to(target)}; remove it there first")
