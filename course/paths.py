"""Where the course's files are (k8s/, apps/, labs/, lessons/), without assuming an
editable checkout: `FIRSTAPP_HOME` if set, else the checkout this package was loaded
from, else the current folder or one above it (an installed `firstapp` run inside a
clone of the course)."""

from __future__ import annotations

import os
from pathlib import Path

from course.errors import UnusableInput

_MARKERS = ("k8s/local/up.sh", "apps/web/web.py")


def _is_course_home(folder: Path) -> bool:
    return all((folder / marker).is_file() for marker in _MARKERS)


def course_home() -> Path:
    """The course folder; `UnusableInput` naming what was tried when there is none."""
    configured = os.environ.get("FIRSTAPP_HOME")
    if configured:
        if _is_course_home(Path(configured)):
            return Path(configured).resolve()
        raise UnusableInput(f"FIRSTAPP_HOME={configured} is not a copy of the course "
                            f"(it has no {' or '.join(_MARKERS)})")
    for folder in (Path(__file__).resolve().parents[1], *[Path.cwd(), *Path.cwd().parents]):
        if _is_course_home(folder):
            return folder
    raise UnusableInput("cannot find the course's files (k8s/, apps/): run firstapp inside your clone "
                        "of the course, or set FIRSTAPP_HOME to it")


def cache_dir() -> Path:
    """Builds and binaries outside the work tree: $FIRSTAPP_CACHE, else ~/.cache/k8s-first-app."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("FIRSTAPP_CACHE") or Path(base) / "k8s-first-app")
