"""A finding: one concrete problem at one place in one object.

Every rule reports in these terms so that a hint can always say which object, which
field path, what was expected and what was found, whatever layer produced it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    object: str  # `Kind/name`, as kubectl names it
    path: str  # field path inside the object, `spec.ports[0].targetPort`
    problem: str  # one sentence a learner can act on
    expected: Any = None
    found: Any = None
    where: str | None = None  # file, document and line the object came from

    def __str__(self) -> str:
        text = f"{self.object}"
        if self.path:
            text += f" {self.path}"
        text += f": {self.problem}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {_show(self.expected)}, found {_show(self.found)})"
        if self.where:
            text += f" [{self.where}]"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"object": self.object, "path": self.path, "problem": self.problem,
                "expected": self.expected, "found": self.found, "where": self.where}


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return value if value else '""'
    return repr(value) if not isinstance(value, (dict, list)) else str(value)


def field_path(parts: Iterable[object]) -> str:
    """`spec.ports[0].targetPort` from ['spec', 'ports', 0, 'targetPort']."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
