"""Safe loading of a learner's manifests: files, directories or stdin, YAML or JSON.

A submission is untrusted text. Loading refuses what could hang or exhaust the grader
(huge input, deep nesting, alias expansion as in a "billion laughs" bomb) and turns
every way the text can be unusable into one `UnusableInput` naming the file, document
and, where known, line and column.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from course.errors import UnusableInput

MAX_INPUT_BYTES = 8 * 1024 * 1024
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 200_000
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Source:
    """Where an object came from, for messages: file, document number, first line."""

    file: str
    document: int
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}, document {self.document}"
        return f"{where}, line {self.line}" if self.line else where


@dataclass
class Manifest:
    """One Kubernetes object as submitted, with where it came from."""

    body: dict[str, Any]
    source: Source
    kind: str = field(init=False)
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.kind = str(self.body.get("kind"))
        metadata = self.body.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        self.name = str(name) if name is not None else "<unnamed>"

    @property
    def ref(self) -> str:
        """`Kind/name`, the way kubectl names an object."""
        return f"{self.kind}/{self.name}"


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and nesting while composing the node graph."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(f"more than {MAX_ALIASES} YAML aliases (*name)", mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nesting deeper than {MAX_DEPTH} levels",
                           self.peek_event().start_mark)  # type: ignore[no-untyped-call]
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    def __init__(self, problem: str, mark: yaml.Mark) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


def load_path(path: str | Path) -> list[Manifest]:
    """Load one file, every manifest file of a directory, or stdin when `path` is '-'."""
    if str(path) == "-":
        return load_stream(sys.stdin.buffer, "<stdin>")
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())
        if not files:
            raise UnusableInput(f"{path}: no {', '.join(MANIFEST_SUFFIXES)} files in this directory")
        manifests = [m for f in files for m in load_path(f)]
        return manifests
    try:
        with path.open("rb") as stream:
            return load_stream(stream, str(path))
    except FileNotFoundError as error:
        raise UnusableInput(f"{path}: no such file or directory") from error
    except (IsADirectoryError, PermissionError) as error:
        raise UnusableInput(f"{path}: cannot read it ({error.strerror})") from error


def load_stream(stream: BinaryIO, name: str) -> list[Manifest]:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise UnusableInput(f"{name}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB; "
                            "a submission is a few Kubernetes objects")
    return load_text(data, name)


def load_text(data: bytes | str, name: str) -> list[Manifest]:
    """Parse manifest text into objects; every problem becomes an `UnusableInput`."""
    text = _decode(data, name) if isinstance(data, bytes) else data
    if not text.strip():
        raise UnusableInput(f"{name}: empty input, expected Kubernetes objects in YAML or JSON")
    documents = _parse_json(text, name) if text.lstrip().startswith(("{", "[")) else _parse_yaml(text, name)
    manifests: list[Manifest] = []
    for number, (body, line) in enumerate(documents, start=1):
        if body is None:
            continue  # an empty document between two `---` is legal and means nothing
        manifests.extend(_objects_of(body, Source(name, number, line)))
    if not manifests:
        raise UnusableInput(f"{name}: no Kubernetes objects, only comments or empty YAML documents")
    return manifests


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise UnusableInput(f"{name}: binary data (NUL bytes), expected YAML or JSON text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnusableInput(
            f"{name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save the file as UTF-8") from error


def _parse_yaml(text: str, name: str) -> list[tuple[Any, int | None]]:
    loader = _GuardedLoader(text)
    documents = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
                raise _Refused(f"aliases expand to more than {MAX_EXPANDED_NODES:,} values",
                               node.start_mark)
            documents.append((loader.construct_document(node), node.start_mark.line + 1))
    except _Refused as refused:
        raise UnusableInput(f"{name}: refused, {refused.problem} "
                            f"(line {refused.mark.line + 1}, column {refused.mark.column + 1})") from refused
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = error.problem or error.context or "invalid YAML"
        raise UnusableInput(f"{name}: YAML syntax error at {where}: {problem}") from error
    except yaml.YAMLError as error:
        raise UnusableInput(f"{name}: invalid YAML: {error}") from error
    except RecursionError as error:
        raise UnusableInput(f"{name}: refused, nesting too deep") from error
    finally:
        loader.dispose()
    return documents


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values the document holds once every alias is copied out, counted
    without copying: a node reached through many aliases is sized once."""
    if id(node) not in memo:
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        memo[id(node)] = 1 + sum(_expanded_size(child, memo) for child in children)
    return memo[id(node)]


def _parse_json(text: str, name: str) -> list[tuple[Any, int | None]]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnusableInput(
            f"{name}: JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}") from error
    except RecursionError as error:
        raise UnusableInput(f"{name}: refused, nesting too deep") from error
    if _depth(body) > MAX_DEPTH:
        raise UnusableInput(f"{name}: refused, nesting deeper than {MAX_DEPTH} levels")
    return [(body, 1)]


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _objects_of(body: Any, source: Source) -> list[Manifest]:
    """One document's objects: itself, or the items of a `kind: List`."""
    _require_object(body, source, "document")
    if body["kind"] == "List" or (str(body["kind"]).endswith("List") and "items" in body):
        items = body.get("items")
        if not isinstance(items, list):
            raise UnusableInput(f"{source}: kind {body['kind']} needs `items`, a list of objects")
        for position, item in enumerate(items):
            _require_object(item, source, f"items[{position}]")
        return [Manifest(item, source) for item in items]
    return [Manifest(body, source)]


def _require_object(body: Any, source: Source, what: str) -> None:
    if not isinstance(body, dict):
        found = {"list": "a list", "str": "a string"}.get(type(body).__name__, type(body).__name__)
        raise UnusableInput(f"{source}: {what} is {found}; expected a mapping with apiVersion and kind")
    missing = [key for key in ("apiVersion", "kind") if not isinstance(body.get(key), str) or not body.get(key)]
    if missing:
        raise UnusableInput(f"{source}: {what} has no {' or '.join(missing)}; "
                            "every Kubernetes object names its apiVersion and kind")
