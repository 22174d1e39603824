"""Strict validation against the Kubernetes OpenAPI schema of the course's version.

The JSON schemas come from the kubernetes-validate package (offline, with `-strict`
variants that reject unknown fields such as a misspelled `selectr`). Validators are
built once per kind and cached: a 1,000-object submission must grade in well under
two seconds.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Iterable

import jsonschema
import referencing

from grader.findings import Finding
from grader.loading import Manifest

KUBERNETES_VERSION = "1.34"
_SCHEMA_DIR = f"v{KUBERNETES_VERSION}.0-local-strict"


def validate(manifests: Iterable[Manifest]) -> list[Finding]:
    """Every schema violation of every object, in submission order."""
    findings: list[Finding] = []
    for manifest in manifests:
        validator = _validator(manifest.body["apiVersion"], manifest.body["kind"])
        if validator is None:
            findings.append(Finding(manifest.ref, "", (
                f"Kubernetes {KUBERNETES_VERSION} has no kind {manifest.kind} in apiVersion "
                f"{manifest.body['apiVersion']}; check both spellings"), where=str(manifest.source)))
            continue
        for error in sorted(validator.iter_errors(manifest.body), key=lambda e: list(map(str, e.absolute_path))):
            findings.append(_finding(manifest, error))
    return findings


def _finding(manifest: Manifest, error: jsonschema.ValidationError) -> Finding:
    path = field_path(error.absolute_path)
    if error.validator == "additionalProperties":
        unknown = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        names = ", ".join(unknown) or "?"
        where = f"{path}." if path else ""
        return Finding(manifest.ref, where + (unknown[0] if len(unknown) == 1 else "{" + names + "}"),
                       f"unknown field {names}: Kubernetes {KUBERNETES_VERSION} has no such field here "
                       "(check the spelling and the indentation)", where=str(manifest.source))
    if error.validator == "required":
        return Finding(manifest.ref, path, f"missing required field: {error.message}",
                       where=str(manifest.source))
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return Finding(manifest.ref, path, "wrong type",
                       expected=" or ".join(t for t in wanted if t != "null"),
                       found=f"{_JSON_TYPES.get(type(error.instance), 'value')} {error.instance!r}",
                       where=str(manifest.source))
    return Finding(manifest.ref, path, error.message, where=str(manifest.source))


_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean",
               dict: "object", list: "array", type(None): "null"}


def field_path(parts: Iterable[object]) -> str:
    """`spec.ports[0].targetPort` from ['spec', 'ports', 0, 'targetPort']."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@functools.cache
def _validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = _schema_file(f"{kind.lower()}-{group_version}.json")
    if schema is None:
        return None
    return jsonschema.Draft202012Validator(schema, registry=_definitions_registry())


@functools.cache
def _definitions_registry() -> referencing.Registry:
    """The shared `_definitions.json` (1.5 MB) every kind's schema refers to, by its $id."""
    return referencing.Resource.from_contents(_schema_file("_definitions.json")) @ referencing.Registry()


@functools.cache
def _schema_file(name: str) -> dict | None:
    if "/" in name or name.startswith("."):
        return None
    path = resources.files("kubernetes_validate") / "kubernetes-json-schema" / _SCHEMA_DIR / name
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
