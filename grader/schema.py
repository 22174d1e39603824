"""Strict validation against the Kubernetes OpenAPI schema of the course's version.

The JSON schemas come from the kubernetes-validate package (offline, with `-strict`
variants that reject unknown fields such as a misspelled `selectr`). They use a small
part of JSON Schema (draft 2020-12): `$ref`, `type`, `enum`, `properties`,
`additionalProperties`, `required`, `items`, `oneOf`; everything else in them is an
annotation (`description`, `format`, `x-kubernetes-*`). This module validates exactly
that part, with draft 2020-12's semantics; a unit test checks it against the
`jsonschema` package on the same schemas, and that the schemas use nothing more.
Doing it here keeps `firstapp grade --static` a fast command: importing `jsonschema`
costs seconds (its optional format checkers build grammars at import).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.findings import Finding, field_path
from grader.loading import Manifest

KUBERNETES_VERSION = "1.34"
_SCHEMA_DIR = f"v{KUBERNETES_VERSION}.0-local-strict"
VALIDATED_KEYWORDS = frozenset({"$ref", "type", "enum", "properties", "additionalProperties", "required",
                                "items", "oneOf"})

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SchemaError:
    """One violation: which keyword, where in the object, and the details to report."""

    keyword: str
    path: FieldPath
    message: str
    instance: Any = None
    expected: Any = None  # the keyword's value: the wanted type(s), the allowed values
    unexpected: tuple[str, ...] = ()  # additionalProperties: the unknown fields


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    kinds: dict[str, type | tuple[type, ...]] = {"string": str, "object": dict, "array": list, "boolean": bool,
                                                 "null": type(None)}
    return isinstance(value, kinds[name])


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, 1.0 is 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


class SchemaValidator:
    """Validates instances against one schema whose `$ref`s point into `definitions`."""

    def __init__(self, schema: dict[str, Any], definitions: dict[str, Any]) -> None:
        self.schema, self.definitions = schema, definitions

    def errors(self, instance: Any) -> Iterator[SchemaError]:
        return self._errors(self.schema, instance, ())

    def _resolve(self, ref: str) -> dict[str, Any]:
        _, _, pointer = ref.partition("#/$defs/")
        schema: dict[str, Any] = self.definitions[pointer]
        return schema

    def _errors(self, schema: dict[str, Any], instance: Any, path: FieldPath) -> Iterator[SchemaError]:
        if "$ref" in schema:
            yield from self._errors(self._resolve(schema["$ref"]), instance, path)
        wanted = schema.get("type")
        if wanted is not None:
            names = wanted if isinstance(wanted, list) else [wanted]
            if not any(_is_type(instance, name) for name in names):
                yield SchemaError("type", path, f"{instance!r} is not of type {', '.join(map(repr, names))}",
                                  instance, wanted)
        if "enum" in schema and not any(_equal(instance, allowed) for allowed in schema["enum"]):
            yield SchemaError("enum", path, f"{instance!r} is not one of {schema['enum']!r}", instance, schema["enum"])
        if isinstance(instance, dict):
            yield from self._object_errors(schema, instance, path)
        if isinstance(instance, list) and "items" in schema:
            for index, item in enumerate(instance):
                yield from self._errors(schema["items"], item, (*path, index))
        if "oneOf" in schema:
            valid = sum(not any(self._errors(option, instance, path)) for option in schema["oneOf"])
            if valid != 1:
                problem = "is not valid under any of the given schemas" if valid == 0 else \
                    "is valid under each of several given schemas"
                yield SchemaError("oneOf", path, f"{instance!r} {problem}", instance)

    def _object_errors(self, schema: dict[str, Any], instance: dict[str, Any], path: FieldPath) -> Iterator[SchemaError]:
        for name in schema.get("required", []):
            if name not in instance:
                yield SchemaError("required", path, f"{name!r} is a required property", instance, name)
        properties = schema.get("properties", {})
        for name, value in instance.items():
            if name in properties:
                yield from self._errors(properties[name], value, (*path, name))
        additional = schema.get("additionalProperties", True)
        extras = [name for name in instance if name not in properties]
        if additional is False and extras:
            listed = ", ".join(map(repr, extras))
            yield SchemaError("additionalProperties", path,
                              f"Additional properties are not allowed ({listed} "
                              f"{'was' if len(extras) == 1 else 'were'} unexpected)",
                              instance, unexpected=tuple(map(str, extras)))
        elif isinstance(additional, dict):
            for name in extras:
                yield from self._errors(additional, instance[name], (*path, name))


def validate(manifests: Iterable[Manifest]) -> list[Finding]:
    """Every schema violation of every object, in submission order."""
    findings: list[Finding] = []
    for manifest in manifests:
        validator = validator_for(manifest.body["apiVersion"], manifest.body["kind"])
        if validator is None:
            findings.append(Finding(manifest.ref, "", (
                f"Kubernetes {KUBERNETES_VERSION} has no kind {manifest.kind} in apiVersion "
                f"{manifest.body['apiVersion']}; check both spellings"), where=str(manifest.source)))
            continue
        for error in sorted(validator.errors(manifest.body), key=lambda e: list(map(str, e.path))):
            findings.append(_finding(manifest, error))
    return findings


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean",
               dict: "object", list: "array", type(None): "null"}


def _finding(manifest: Manifest, error: SchemaError) -> Finding:
    path = field_path(error.path)
    where = str(manifest.source)
    if error.keyword == "additionalProperties":
        names = ", ".join(error.unexpected)
        prefix = f"{path}." if path else ""
        field = error.unexpected[0] if len(error.unexpected) == 1 else "{" + names + "}"
        return Finding(manifest.ref, prefix + field,
                       f"unknown field {names}: Kubernetes {KUBERNETES_VERSION} has no such field here "
                       "(check the spelling and the indentation)", where=where)
    if error.keyword == "required":
        return Finding(manifest.ref, path, f"missing required field: {error.message}", where=where)
    if error.keyword == "type":
        wanted = error.expected if isinstance(error.expected, list) else [error.expected]
        return Finding(manifest.ref, path, "wrong type", expected=" or ".join(t for t in wanted if t != "null"),
                       found=f"{_JSON_TYPES.get(type(error.instance), 'value')} {error.instance!r}", where=where)
    return Finding(manifest.ref, path, error.message, where=where)


@functools.cache
def schema_dir() -> Path:
    """The strict schemas' folder inside the kubernetes-validate package, found without
    importing the package (its __init__ imports jsonschema)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    assert spec is not None and spec.submodule_search_locations, "kubernetes-validate is a dependency"
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema" / _SCHEMA_DIR


def schema_file(name: str) -> dict[str, Any] | None:
    """One file of the strict schemas (`service-v1.json`, `_definitions.json`), or None."""
    if "/" in name or name.startswith("."):
        return None
    path = schema_dir() / name
    try:
        schema: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return schema


@functools.cache
def _definitions() -> dict[str, Any]:
    """The shared `_definitions.json` (1.5 MB) every kind's schema refers to."""
    definitions = schema_file("_definitions.json")
    assert definitions is not None, "kubernetes-validate ships _definitions.json"
    found: dict[str, Any] = definitions["$defs"]
    return found


@functools.cache
def validator_for(api_version: str, kind: str) -> SchemaValidator | None:
    """The validator of `kind` in `api_version`, or None when Kubernetes has no such kind."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = schema_file(f"{kind.lower()}-{group_version}.json")
    return SchemaValidator(schema, _definitions()) if schema is not None else None
