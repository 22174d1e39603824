"""Tests of the course's install step: the declarative list of Debian packages
(k8s/local/debian-packages.list) against the code that uses them, and
k8s/local/install-deps.sh run on a fresh minimal Debian."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE_LIST = REPO / "k8s" / "local" / "debian-packages.list"
TEST_PACKAGE_LIST = REPO / "scripts" / "test-packages.list"  # what the tests need besides
INSTALL_DEPS = REPO / "k8s" / "local" / "install-deps.sh"
PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")


@dataclass(frozen=True)
class Package:
    name: str
    files: tuple[str, ...]
    base: bool  # in every Debian system (Essential or Priority required): present before the install


def read_package_list(path: Path = PACKAGE_LIST) -> list[Package]:
    """The list, as install-deps.sh reads it: `PACKAGE [base] FILE...`, `#` comments."""
    packages = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = line.split()
        comment = next((i for i, word in enumerate(words) if word.startswith("#")), len(words))
        words = words[:comment]
        if not words:
            continue
        name, rest = words[0], words[1:]
        if not PACKAGE_NAME.fullmatch(name):
            raise ValueError(f"{path.name}:{number}: {name!r} is not a Debian package name")
        unknown = [word for word in rest if word != "base" and not word.startswith("/")]
        if unknown:
            raise ValueError(f"{path.name}:{number}: {unknown} are neither files (/...) nor 'base'")
        packages.append(Package(name, tuple(word for word in rest if word.startswith("/")), "base" in rest))
    return packages
