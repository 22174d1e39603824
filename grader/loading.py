"""Safe loading of a learner's manifests: files, directories or stdin, YAML or JSON.

A submission is untrusted text. Loading refuses what could hang or exhaust the grader
(a large submission, many objects or values, deep nesting, alias expansion as in a
"billion laughs" bomb, a symbolic link or a device in a submission folder) and what
Kubernetes itself would refuse before looking at an object (a duplicate key, a number
JSON or Kubernetes cannot hold, the same object twice), and turns every way the text
can be unusable into one `UnusableInput` naming the file, document and, where known,
line and column.

What it returns is JSON data, as kubectl would send it: YAML's timestamps stay the
text that was written (kubectl reads `2024-01-01` as a string too), keys are strings,
integers fit in 64 bits, numbers are finite; a tag JSON cannot hold (`!!binary`,
`!!set`, `!!omap`, `!!pairs`) is refused.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from course.errors import UnusableInput
from grader.findings import Where, shorten, shown

try:  # libyaml's parser, four times faster than the pure-Python one; composing stays here
    from yaml._yaml import CParser as _FastEvents
except ImportError:  # PyYAML built without libyaml
    _FastEvents = None  # type: ignore[assignment,misc]

MAX_INPUT_BYTES = 1024 * 1024  # the whole submission: one file, stdin, or a folder's files together
MAX_OBJECTS = 1000
MAX_VALUES = 200_000  # every value of the submission, each alias counted as a copy of what it names
MAX_EXPANDED_NODES = MAX_VALUES  # the name this limit had when it counted aliases only
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_INT_DIGITS = 100  # an integer literal longer than this is refused before it is converted
MAX_FIELD_LINES = 50_000  # field lines remembered for messages, the whole submission together
MAX_FIELD_DEPTH = 16  # fields nested deeper are reported at their nearest remembered parent's line
MAX_FIELD_PATH = 300  # characters of a field path remembered
INT64 = range(-(2**63), 2**63)  # Kubernetes' integers (JSON numbers are read as int64 or float64)
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
YAML_LIBRARY_FAILED = "the YAML library failed to read this text"

# What YAML allows in a stream (YAML 1.1, section 5.1): no other control character.
_NOT_YAML_TEXT = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Source:
    """Where an object came from, for messages: file, document number, first line;
    `item` is its position in a `kind: List`; `fields` the line of each field path
    (`spec.ports[0].targetPort`) in the object, for YAML (empty for JSON)."""

    file: str
    document: int
    line: int | None = None
    item: int | None = field(default=None, compare=False)
    fields: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        """The object's first line; a finding given it as `where` names its field's own line."""
        where = f"{self.file}, document {self.document}"
        return Where(f"{where}, line {self.line}" if self.line else where, where, self.fields)

    def line_of(self, path: str) -> int | None:
        """The line of the deepest field of `path` the object has, else its first line."""
        while path:
            if path in self.fields:
                return self.fields[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.line

    @property
    def precise(self) -> str:
        return f"{self}, items[{self.item}]" if self.item is not None else str(self)


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


@dataclass
class _Budget:
    """What is left of the submission's limits while its files are read."""

    bytes: int = MAX_INPUT_BYTES
    objects: int = MAX_OBJECTS
    values: int = MAX_VALUES
    field_lines: int = MAX_FIELD_LINES


class _Refused(Exception):
    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


class _PyEvents(Reader, Scanner, Parser):
    """PyYAML's pure-Python parser, where libyaml is missing."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


class _GuardedLoader(Composer, SafeConstructor, Resolver):
    """Composes YAML events into nodes counting values, aliases and nesting, and
    constructs JSON data only: every refusal is a `_Refused` with the node's mark."""

    def __init__(self, stream: str, values_left: int) -> None:
        events: Any = _FastEvents(stream) if _FastEvents is not None else _PyEvents(stream)
        # The composer reads events through these three (bound here: they run per event).
        self.check_event = events.check_event
        self.peek_event = events.peek_event
        self.get_event = events.get_event
        self.dispose = events.dispose
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.aliases = 0
        self._depth = 0
        self.composed = 0  # nodes composed in the current document, each alias as one
        self.values_left = values_left

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.composed += 1
        if self.composed > self.values_left:
            raise _Refused(f"more than {MAX_VALUES:,} values in the submission; a submission is a few "
                           "Kubernetes objects", self.peek_event().start_mark)
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} YAML aliases (*name)", self.peek_event().start_mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"nesting deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping with string keys (as kubectl converts them), refusing a key written
        twice as kubectl does; keys a merge (`<<: *base`) brings in may be overridden."""
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)  # refuses it, naming the line
        seen: dict[str, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = _key_text(self.construct_object(key_node, deep=deep), key_node)
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise _Refused(f'duplicate key "{shown(key, 60)}", already set at line {first} '
                               "(kubectl refuses duplicate keys; keep one)", key_node.start_mark)
            seen[key] = key_node
        mapping = super().construct_mapping(node, deep=deep)
        return {_key_text(key, node): value for key, value in mapping.items()}

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = self.construct_scalar(node)
        if len(text.replace("_", "")) > MAX_INT_DIGITS:
            raise _Refused(f"an integer of {len(text):,} characters; Kubernetes' integers have 64 bits",
                           node.start_mark)
        try:
            value = super().construct_yaml_int(node)
        except (ValueError, IndexError) as error:
            raise _Refused(f"{shown(text, 60)} is not an integer ({_tag(node)})", node.start_mark) from error
        if value not in INT64:
            raise _Refused(f"the integer {value} is out of range: Kubernetes' integers have 64 bits",
                           node.start_mark)
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        text = self.construct_scalar(node)
        try:
            value = super().construct_yaml_float(node)
        except (ValueError, IndexError) as error:
            raise _Refused(f"{shown(text, 60)} is not a number ({_tag(node)})", node.start_mark) from error
        if not math.isfinite(value):
            raise _Refused(f"{shown(text, 60)} is not a finite number; JSON, and so Kubernetes, has no NaN or "
                           "infinity (quote it to make it a string)", node.start_mark)
        return value

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool:
        try:
            return super().construct_yaml_bool(node)
        except KeyError as error:
            raise _Refused(f"{shown(self.construct_scalar(node), 60)} is not a boolean ({_tag(node)})",
                           node.start_mark) from error

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> str:  # type: ignore[override]
        """The text as written: kubectl reads an unquoted date as a string."""
        return self.construct_scalar(node)

    def construct_not_json(self, node: yaml.Node) -> None:
        raise _Refused(f"the tag {_tag(node)} makes a value JSON, and so Kubernetes, cannot hold "
                       "(write the value as a string instead)", node.start_mark)


# This loader's own constructors (the class attribute is copied, SafeLoader keeps its own).
_GuardedLoader.yaml_constructors = {
    **SafeConstructor.yaml_constructors,
    **{f"tag:yaml.org,2002:{tag}": _GuardedLoader.construct_not_json for tag in ("binary", "set", "omap", "pairs")},
    "tag:yaml.org,2002:timestamp": _GuardedLoader.construct_yaml_timestamp,
    "tag:yaml.org,2002:int": _GuardedLoader.construct_yaml_int,
    "tag:yaml.org,2002:float": _GuardedLoader.construct_yaml_float,
    "tag:yaml.org,2002:bool": _GuardedLoader.construct_yaml_bool,
}


def _tag(node: yaml.Node) -> str:
    return shown(str(node.tag).replace("tag:yaml.org,2002:", "!!"), 60)


def _key_text(key: Any, node: yaml.Node) -> str:
    """A mapping key as JSON text: `8080` and `true` become "8080" and "true", as kubectl writes them."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    raise _Refused("a mapping key that is not text; write the key in quotes", node.start_mark)


def load_path(path: str | Path) -> list[Manifest]:
    """Load one file, every manifest file of a directory, or stdin when `path` is '-'.

    A file named on the command line is read whatever it is (a pipe such as
    `<(kubectl get ...)` too); in a directory only regular files are read, never a
    symbolic link, and the files count together against the submission's limits.
    """
    budget = _Budget()
    if str(path) == "-":
        if sys.stdin is None:
            raise UnusableInput("<stdin>: there is no standard input; give --manifests PATH")
        manifests = _load_stream(sys.stdin.buffer, "<stdin>", budget)
    elif _is_dir(Path(path)):
        manifests = _load_directory(Path(path), budget)
    else:
        manifests = _load_named_file(Path(path), budget)
    _refuse_duplicates(manifests)
    return manifests


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, say: opening the path says what is wrong
        return False


def _display(path: Path | str) -> str:
    return shown(str(path), 300)


def _load_named_file(path: Path, budget: _Budget) -> list[Manifest]:
    try:
        with path.open("rb") as stream:
            return _load_stream(stream, _display(path), budget)
    except FileNotFoundError as error:
        raise UnusableInput(f"{_display(path)}: no such file or directory") from error
    except (OSError, ValueError) as error:  # ValueError: a path with a NUL byte
        raise UnusableInput(f"{_display(path)}: cannot read it ({_why(error)})") from error


def _why(error: Exception) -> str:
    return shown(getattr(error, "strerror", None) or str(error), 200)


def _load_directory(directory: Path, budget: _Budget) -> list[Manifest]:
    try:
        entries = sorted((entry for entry in os.scandir(directory) if entry.name.endswith(MANIFEST_SUFFIXES)),
                         key=lambda entry: entry.name)
    except OSError as error:
        raise UnusableInput(f"{_display(directory)}: cannot list this directory ({_why(error)})") from error
    manifests: list[Manifest] = []
    read = 0
    for entry in entries:
        path = directory / entry.name
        if entry.is_symlink():
            raise UnusableInput(f"{_display(path)}: a symbolic link; a submission folder is read without following "
                                "links, so copy the file itself into the folder")
        if entry.is_dir(follow_symlinks=False):
            continue  # a folder is not a manifest file, whatever its name
        data = _read_regular_file(path)
        read += 1
        if len(data) > budget.bytes:
            raise UnusableInput(f"{_display(directory)}: its manifest files add up to more than "
                                f"{_mib(MAX_INPUT_BYTES)} (at {_display(entry.name)}); a submission is a few "
                                "Kubernetes objects")
        budget.bytes -= len(data)
        manifests += _load_text(data, _display(path), budget)
    if not read:
        raise UnusableInput(f"{_display(directory)}: no {', '.join(MANIFEST_SUFFIXES)} files in this directory")
    return manifests


def _read_regular_file(path: Path) -> bytes:
    """A folder's file, opened without following a link and without blocking (a FIFO
    or a device swapped in is refused, never waited on), read up to the size limit."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise UnusableInput(f"{_display(path)}: cannot read it ({_why(error)})") from error
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise UnusableInput(f"{_display(path)}: not a regular file ({_file_type(mode)}); a submission folder "
                                "holds manifest files only")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_INPUT_BYTES:
            chunk = os.read(descriptor, min(1 << 16, MAX_INPUT_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise UnusableInput(f"{_display(path)}: cannot read it ({_why(error)})") from error
    finally:
        os.close(descriptor)


def _file_type(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"))
    return next((name for test, name in kinds if test(mode)), "not a file")


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


def load_stream(stream: BinaryIO, name: str) -> list[Manifest]:
    """Load what `stream` holds (at most the submission's size limit)."""
    manifests = _load_stream(stream, shown(name, 300), _Budget())
    _refuse_duplicates(manifests)
    return manifests


def _load_stream(stream: BinaryIO, name: str, budget: _Budget) -> list[Manifest]:
    data = stream.read(budget.bytes + 1)
    if len(data) > budget.bytes:
        raise UnusableInput(f"{name}: larger than {_mib(MAX_INPUT_BYTES)}; a submission is a few Kubernetes objects")
    budget.bytes -= len(data)
    return _load_text(data, name, budget)


def load_text(data: bytes | str, name: str) -> list[Manifest]:
    """Parse manifest text into objects; every problem becomes an `UnusableInput`."""
    name = shown(name, 300)
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_INPUT_BYTES:
        raise UnusableInput(f"{name}: larger than {_mib(MAX_INPUT_BYTES)}; a submission is a few Kubernetes objects")
    manifests = _load_text(data, name, _Budget())
    _refuse_duplicates(manifests)
    return manifests


def _load_text(data: bytes | str, name: str, budget: _Budget) -> list[Manifest]:
    text = _decode(data, name) if isinstance(data, bytes) else data
    if not text.strip():
        raise UnusableInput(f"{name}: empty input, expected Kubernetes objects in YAML or JSON")
    is_json = text.lstrip().startswith(("{", "["))
    documents = _parse_json(text, name, budget) if is_json else _parse_yaml(text, name, budget)
    manifests: list[Manifest] = []
    for number, (body, line, fields) in enumerate(documents, start=1):
        if body is None:
            continue  # an empty document between two `---` is legal and means nothing
        objects = _objects_of(body, Source(name, number, line, fields=fields))
        budget.objects -= len(objects)
        if budget.objects < 0:
            raise UnusableInput(f"{name}: more than {MAX_OBJECTS:,} Kubernetes objects in the submission "
                                f"(at document {number}); a submission is a few objects")
        manifests.extend(objects)
    if not manifests:
        raise UnusableInput(f"{name}: no Kubernetes objects, only comments or empty YAML documents")
    return manifests


def _decode(data: bytes, name: str) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UnusableInput(f"{name}: binary data (a NUL byte at offset {nul}), expected YAML or JSON text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnusableInput(
            f"{name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save the file as UTF-8") from error


def _line_and_column(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _parse_yaml(text: str, name: str, budget: _Budget) -> list[tuple[Any, int | None, dict[str, int]]]:
    unprintable = _NOT_YAML_TEXT.search(text)
    if unprintable:
        line, column = _line_and_column(text, unprintable.start())
        code = ord(unprintable.group())
        what = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
        raise UnusableInput(f"{name}: refused, U+{code:04X} is {what}, which YAML does not allow in its text "
                            f"(line {line}, column {column})")
    documents: list[tuple[Any, int | None, dict[str, int]]] = []
    loader = None
    try:
        loader = _GuardedLoader(text, budget.values)
        while loader.check_node():
            if len(documents) == MAX_OBJECTS:
                raise _Refused(f"more than {MAX_OBJECTS:,} YAML documents; a submission is a few Kubernetes objects",
                               loader.peek_event().start_mark)
            loader.composed, aliases_before = 0, loader.aliases
            node = loader.get_node()
            if node is None:
                continue
            # Without an alias the document is the tree composed, already counted and nesting-checked.
            size, depth = _measure(node) if loader.aliases > aliases_before else (loader.composed, 0)
            if depth > MAX_DEPTH:
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels once aliases are expanded", node.start_mark)
            if size > loader.values_left:
                raise _Refused(f"aliases expand the submission to more than {MAX_EXPANDED_NODES:,} values",
                               node.start_mark)
            loader.values_left -= size
            fields = _field_lines(node, budget.field_lines)
            budget.field_lines -= len(fields)
            documents.append((loader.construct_document(node), node.start_mark.line + 1, fields))
        budget.values = loader.values_left
    except _Refused as refused:
        raise UnusableInput(f"{name}: refused, {refused.problem} "
                            f"(line {refused.mark.line + 1}, column {refused.mark.column + 1})") from refused
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = shown(error.problem or error.context or "invalid YAML", 300)
        raise UnusableInput(f"{name}: YAML syntax error at {where}: {problem}") from error
    except yaml.YAMLError as error:
        raise UnusableInput(f"{name}: invalid YAML: {shown(str(error), 300)}") from error
    except UnicodeEncodeError as error:  # text handed in as a str with a lone surrogate
        raise UnusableInput(f"{name}: refused, a lone surrogate at offset {error.start}; not text") from error
    except RecursionError as error:
        raise UnusableInput(f"{name}: refused, nesting too deep") from error
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        # A way for PyYAML's constructors to fail that the guards above do not know yet:
        # still one message (the tests' hostile inputs never reach it).
        raise UnusableInput(f"{name}: {YAML_LIBRARY_FAILED} ({type(error).__name__}: {shown(str(error), 200)})") from error
    finally:
        if loader is not None:
            loader.dispose()
    return documents


def _field_lines(root: yaml.Node, limit: int) -> dict[str, int]:
    """The line of each field path of a document (`spec.type` -> 22): a mapping entry's
    key's line, a list item's first line. Each node is walked once (an alias is not
    expanded), at most `limit` paths, `MAX_FIELD_DEPTH` levels and `MAX_FIELD_PATH`
    characters per path; deeper fields are reported at their parent's line."""
    lines: dict[str, int] = {}
    walked: set[int] = set()
    stack: list[tuple[yaml.Node, str, int]] = [(root, "", 0)]
    while stack and len(lines) < limit:
        node, path, depth = stack.pop()
        if id(node) in walked or depth >= MAX_FIELD_DEPTH:
            continue
        walked.add(id(node))
        entries: list[tuple[str, yaml.Node, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            entries = [(f"{path}.{key.value}" if path else str(key.value), key, value) for key, value in node.value
                       if isinstance(key, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            entries = [(f"{path}[{index}]", item, item) for index, item in enumerate(node.value)]
        for child, at, value in entries:
            if len(child) <= MAX_FIELD_PATH and len(lines) < limit:
                lines.setdefault(child, at.start_mark.line + 1)
                stack.append((value, child, depth + 1))
    return lines


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _measure(root: yaml.Node) -> tuple[int, int]:
    """How many values the document holds once every alias is copied out, and how deep
    it then nests, computed without copying (a node reached through many aliases is
    measured once) and without recursion. An alias inside what it names is refused."""
    measured: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            sizes = [measured[id(child)] for child in _children(node)]
            measured[key] = (1 + sum(s for s, _ in sizes), 1 + max((d for _, d in sizes), default=0))
            open_nodes.discard(key)
            continue
        if key in measured:
            continue
        if key in open_nodes:
            raise _Refused("an alias inside the value it names (a cycle); Kubernetes objects are trees",
                           node.start_mark)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in measured)
    return measured[id(root)]


class _JsonRefused(Exception):
    def __init__(self, problem: str, at_object: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.at_object = at_object  # the position to report is the enclosing object's
        self.offset: int | None = None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonRefused(f'duplicate key "{shown(key, 60)}" in the object starting here '
                                   "(kubectl refuses duplicate keys; keep one)", at_object=True)
            seen.add(key)
    return mapping


def _json_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:
        raise _JsonRefused(f"an integer of {len(text):,} digits; Kubernetes' integers have 64 bits")
    value = int(text)
    if value not in INT64:
        raise _JsonRefused(f"the integer {value} is out of range: Kubernetes' integers have 64 bits")
    return value


def _json_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonRefused(f"the number {shorten(text, 60)} is too large for a 64-bit float")
    return value


def _json_constant(text: str) -> float:
    raise _JsonRefused(f"{text} is not JSON; JSON, and so Kubernetes, has no NaN or infinity")


def _json_decoder() -> json.JSONDecoder:
    return json.JSONDecoder(object_pairs_hook=_unique_keys, parse_int=_json_int, parse_float=_json_float,
                            parse_constant=_json_constant)


def _parse_json(text: str, name: str, budget: _Budget) -> list[tuple[Any, int | None, dict[str, int]]]:
    try:
        body = _json_decoder().decode(text)
    except json.JSONDecodeError as error:
        raise UnusableInput(
            f"{name}: JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}") from error
    except _JsonRefused as refused:
        offset = _json_refusal_offset(text)
        where = " (line {}, column {})".format(*_line_and_column(text, offset)) if offset is not None else ""
        raise UnusableInput(f"{name}: refused, {refused.problem}{where}") from refused
    except RecursionError as error:
        raise UnusableInput(f"{name}: refused, nesting too deep") from error
    values, depth = _json_measure(body)
    if depth > MAX_DEPTH:
        raise UnusableInput(f"{name}: refused, nesting deeper than {MAX_DEPTH} levels")
    if values > budget.values:
        raise UnusableInput(f"{name}: refused, more than {MAX_VALUES:,} values in the submission; "
                            "a submission is a few Kubernetes objects")
    budget.values -= values
    return [(body, 1, {})]


def _json_measure(body: Any) -> tuple[int, int]:
    """How many values, and how deeply arrays and objects nest (a scalar is level 0)."""
    values, deepest = 0, 0
    stack: list[tuple[Any, int]] = [(body, 0)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if isinstance(value, (dict, list)):
            depth += 1
            deepest = max(deepest, depth)
            stack.extend((child, depth) for child in (value.values() if isinstance(value, dict) else value))
    return values, deepest


def _json_refusal_offset(text: str) -> int | None:
    """Where the JSON hooks refused a value: the text parsed again by the pure-Python
    scanner, which tells where each value (and object) starts. Only run on a refusal."""
    decoder = _json_decoder()

    def located(scan_once: Callable[[str, int], Any]) -> Callable[[str, int], Any]:
        def scan(string: str, index: int) -> Any:
            try:
                return scan_once(string, index)
            except _JsonRefused as refused:
                if refused.offset is None:
                    refused.offset = index
                raise
        return scan

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Callable[[str, int], Any],
                     *hooks: Any) -> Any:
        try:
            return json.decoder.JSONObject(s_and_end, strict, located(scan_once), *hooks)  # type: ignore[attr-defined]
        except _JsonRefused as refused:
            if refused.offset is None and refused.at_object:
                refused.offset = s_and_end[1] - 1  # the object's `{`
            raise

    def parse_array(s_and_end: tuple[str, int], scan_once: Callable[[str, int], Any]) -> Any:
        return json.decoder.JSONArray(s_and_end, located(scan_once))  # type: ignore[attr-defined]

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.parse_array = parse_array  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except _JsonRefused as refused:
        return refused.offset
    except (ValueError, RecursionError):
        return None
    return None


def _objects_of(body: Any, source: Source) -> list[Manifest]:
    """One document's objects: itself, or the items of a `kind: List`."""
    _require_object(body, source, "document")
    if body["kind"] == "List" or (str(body["kind"]).endswith("List") and "items" in body):
        items = body.get("items")
        if not isinstance(items, list):
            raise UnusableInput(f"{source}: kind {shown(body['kind'], 60)} needs `items`, a list of objects")
        for position, item in enumerate(items):
            _require_object(item, source, f"items[{position}]")
        fields: dict[int, dict[str, int]] = {}
        for path, line in source.fields.items():
            item_path = _ITEM_PATH.match(path)
            if item_path:
                fields.setdefault(int(item_path.group(1)), {})[path[item_path.end():]] = line
        return [Manifest(item, Source(source.file, source.document, source.line, position, fields.get(position, {})))
                for position, item in enumerate(items)]
    return [Manifest(body, source)]


_ITEM_PATH = re.compile(r"items\[(\d+)\]\.?")


def _require_object(body: Any, source: Source, what: str) -> None:
    if not isinstance(body, dict):
        found = {"list": "a list", "str": "a string"}.get(type(body).__name__, type(body).__name__)
        raise UnusableInput(f"{source}: {what} is {found}; expected a mapping with apiVersion and kind")
    missing = [key for key in ("apiVersion", "kind") if not isinstance(body.get(key), str) or not body.get(key)]
    if missing:
        raise UnusableInput(f"{source}: {what} has no {' or '.join(missing)}; "
                            "every Kubernetes object names its apiVersion and kind")


def _identity(manifest: Manifest) -> tuple[str, str, str] | None:
    metadata = manifest.body.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return None  # an object without a name is the schema check's to report
    namespace = metadata.get("namespace")
    return manifest.kind, namespace if isinstance(namespace, str) else "", metadata["name"]


def _refuse_duplicates(manifests: list[Manifest]) -> None:
    """The same object (kind, namespace, name) twice: kubectl would apply the second over
    the first, so which one the learner means cannot be told."""
    first: dict[tuple[str, str, str], Manifest] = {}
    for manifest in manifests:
        identity = _identity(manifest)
        if identity is None:
            continue
        if identity in first:
            namespace = f" in namespace {shown(identity[1], 60)}" if identity[1] else ""
            raise UnusableInput(
                f"{manifest.source.file}: {shown(manifest.ref)}{namespace} is submitted twice: "
                f"{first[identity].source.precise} and {manifest.source.precise}; kubectl would apply the second "
                "over the first, so keep one")
        first[identity] = manifest
