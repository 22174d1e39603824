"""mypy (strict on `course` and `grader`) and ruff pass on the whole tree: the settings
are in pyproject.toml, so a developer runs the same `mypy` and `ruff check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", [["mypy"], ["ruff", "check", "."]], ids=["mypy", "ruff"])
def test_passes(command):
    run = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=REPO, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
