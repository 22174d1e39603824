"""A finding: one concrete problem at one place in one object.

Every rule reports in these terms so that a hint can always say which object, which
field path, what was expected and what was found, whatever layer produced it.

A finding echoes what a learner wrote, and a submission is untrusted text: `printable`
is the one sanitizer every report runs each string through (no terminal escape, no
control or line-breaking character, no lone surrogate reaches a terminal, an XML or a
JSON parser), and a finding shows at most `MAX_ECHO` characters of any one value.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_ECHO = 200  # characters of one learner-supplied value a finding shows
MAX_PROBLEM = 1000  # characters of a problem sentence (it may name many objects)

# Characters a report never writes as they are: C0 and C1 controls and DEL (ESC starts
# terminal sequences, CR overwrites a line), line and paragraph separators, the bidi
# controls that reorder text on screen, BOM and interlinear annotation, the two
# noncharacters XML forbids, and lone surrogates (not encodable as UTF-8 at all).
_UNSAFE = ("\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
           "\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff")
_UNSAFE_IN_TEXT = re.compile(f"[{_UNSAFE}]")  # a multi-line text: newlines kept
_UNSAFE_IN_LINE = re.compile(f"[\n{_UNSAFE}]")  # one value: a newline is escaped too
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, newlines: bool = True) -> str:
    """`text` with every unsafe character written as a visible escape (`\\x1b`,
    `\\ud800`); with `newlines=False` a newline is escaped too, so that one value
    cannot forge a line of a report."""
    return (_UNSAFE_IN_TEXT if newlines else _UNSAFE_IN_LINE).sub(_escape, text)


def shorten(text: str, limit: int = MAX_ECHO) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def shown(value: Any, limit: int = MAX_ECHO) -> str:
    """One value as a report may show it: on one line, printable, at most `limit` characters."""
    return printable(shorten(value if isinstance(value, str) else repr(value), limit), newlines=False)


def json_safe(value: Any, limit: int | None = None) -> Any:
    """`value` as data any JSON parser reads: strings (and keys) printable, NaN and
    infinities as strings, an enum as its value, anything else that is not JSON (a
    set, a date, bytes) as text."""
    if isinstance(value, str):
        return printable(shorten(value, limit) if limit else value, newlines=limit is None)
    if isinstance(value, enum.Enum):
        return json_safe(value.value, limit)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {json_safe(str(k), limit): json_safe(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, limit) for v in value]
    return json_safe(str(value), limit)


class Where(str):
    """Where an object came from ("file, document 2, line 17": its first line) that also
    knows the line of each field under it, so that a finding about `spec.type` names
    the line of `spec.type` itself (`at`). It is the text of `str(manifest.source)`,
    which every rule passes as a finding's `where`."""

    fields: Mapping[str, int]
    document: str  # the text without the line: "file, document 2"

    def __new__(cls, text: str, document: str = "", fields: Mapping[str, int] | None = None) -> Where:
        where = super().__new__(cls, text)
        where.document = document or text
        where.fields = fields or {}
        return where

    def at(self, path: str) -> str:
        """The line of the deepest field of `path` ("spec.ports[0].targetPort") that the
        object has, else the object's own first line."""
        while path:
            if path in self.fields:
                return f"{self.document}, line {self.fields[path]}"
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return str.__str__(self)


@dataclass(frozen=True)
class Finding:
    object: str  # `Kind/name`, as kubectl names it
    path: str  # field path inside the object, `spec.ports[0].targetPort`
    problem: str  # one sentence a learner can act on
    expected: Any = None
    found: Any = None
    where: str | None = None  # file, document and line the object came from

    def __post_init__(self) -> None:
        if isinstance(self.where, Where):  # the field's own line, not the object's first
            object.__setattr__(self, "where", self.where.at(self.path))
        # What a learner wrote (a name, a field, a file name) is shown on one line and cut short.
        object.__setattr__(self, "object", shown(self.object))
        object.__setattr__(self, "path", shown(self.path))
        object.__setattr__(self, "problem", shown(self.problem, MAX_PROBLEM))
        if self.where is not None:
            object.__setattr__(self, "where", shown(self.where))

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
                "expected": json_safe(self.expected, MAX_ECHO), "found": json_safe(self.found, MAX_ECHO),
                "where": self.where}


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return shown(value) if value else '""'
    return shown(repr(value) if not isinstance(value, (dict, list)) else str(value))


def field_path(parts: Iterable[object]) -> str:
    """`spec.ports[0].targetPort` from ['spec', 'ports', 0, 'targetPort']."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
