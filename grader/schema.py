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

The schemas type every port as an integer or a string; the API server also refuses a
port number outside 1-65535 and a string port that is not a port name (`"8080"` in
quotes among them). `validate` reports those too, so `manifests-valid` fails for what
`kubectl apply` would refuse.
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

from grader.findings import Finding, field_path, shown
from grader.loading import Manifest
from grader.workloads import WORKLOAD_KINDS, dig, listed

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


# The Gateway API's standard kinds, as its CRDs (v1.6, installed by `firstapp up`) serve
# them. Kubernetes itself has no schema for them, and kubernetes-validate ships none: they
# are known here, and their fields are checked by `grader.route_rules` (an HTTPRoute) and
# by the API server when applied.
GATEWAY_API_KINDS = frozenset(
    {(f"gateway.networking.k8s.io/{version}", kind) for version in ("v1", "v1beta1")
     for kind in ("GatewayClass", "Gateway", "HTTPRoute", "ReferenceGrant")}
    | {("gateway.networking.k8s.io/v1", "GRPCRoute")})


def validate(manifests: Iterable[Manifest]) -> list[Finding]:
    """Every schema violation of every object, in submission order."""
    findings: list[Finding] = []
    for manifest in manifests:
        if (manifest.body["apiVersion"], manifest.body["kind"]) in GATEWAY_API_KINDS:
            if not isinstance(manifest.body.get("spec"), dict):
                findings.append(Finding(manifest.ref, "spec", "a Gateway API object needs its spec",
                                        expected="an object", found=manifest.body.get("spec"),
                                        where=str(manifest.source)))
            continue
        validator = validator_for(manifest.body["apiVersion"], manifest.body["kind"])
        if validator is None:
            findings.append(Finding(manifest.ref, "", (
                f"Kubernetes {KUBERNETES_VERSION} has no kind {shown(manifest.kind, 80)} in apiVersion "
                f"{shown(manifest.body['apiVersion'], 80)}; check both spellings"), where=str(manifest.source)))
            continue
        for error in sorted(validator.errors(manifest.body), key=lambda e: list(map(str, e.path))):
            findings.append(_finding(manifest, error))
        findings += port_value_findings(manifest)
    return findings


PORT_NUMBERS = range(1, 65536)
_IANA_SERVICE_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")  # IANA_SVC_NAME, at most 15 characters
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _pod_spec_path(manifest: Manifest) -> tuple[str, ...] | None:
    if manifest.kind == "Pod":
        return ("spec",)
    if manifest.kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template", "spec")
    if manifest.kind == "PodTemplate":
        return ("template", "spec")
    return ("spec", "template", "spec") if manifest.kind in WORKLOAD_KINDS else None


def _port_fields(manifest: Manifest) -> list[tuple[FieldPath, Any, str]]:
    """(field path, value, what the API server accepts there) for every port field of
    a Service or a pod template: "number" (1-65535), "number or name", "host" (0-65535)."""
    fields: list[tuple[FieldPath, Any, str]] = []
    if manifest.kind == "Service":
        for index, port in enumerate(listed(manifest.body, "spec", "ports")):
            base: FieldPath = ("spec", "ports", index)
            fields += [((*base, "port"), dig(port, "port"), "number"),
                       ((*base, "targetPort"), dig(port, "targetPort"), "target"),
                       ((*base, "nodePort"), dig(port, "nodePort"), "host")]
    pod = _pod_spec_path(manifest)
    if pod is not None:
        for group in ("initContainers", "containers"):
            for index, container in enumerate(listed(manifest.body, *pod, group)):
                container_path: FieldPath = (*pod, group, index)
                for port_index, port in enumerate(listed(container, "ports")):
                    port_path: FieldPath = (*container_path, "ports", port_index)
                    fields += [((*port_path, "containerPort"), dig(port, "containerPort"), "number"),
                               ((*port_path, "hostPort"), dig(port, "hostPort"), "host")]
                for probe in _PROBES:
                    for handler, accepted in (("httpGet", "number or name"), ("tcpSocket", "number or name"),
                                              ("grpc", "number")):
                        fields.append(((*container_path, probe, handler, "port"), dig(container, probe, handler, "port"),
                                       accepted))
    return [(path, value, accepted) for path, value, accepted in fields if value is not None]


def port_value_findings(manifest: Manifest) -> list[Finding]:
    """Port values of the right type that the API server still refuses: a number outside
    1-65535, a string that is no port name (a quoted number among them)."""
    findings = []
    for path, value, accepted in _port_fields(manifest):
        where, field = str(manifest.source), field_path(path)
        if isinstance(value, bool):
            continue  # a wrong type: the schema reports it
        if isinstance(value, int):
            allowed = range(0, 65536) if accepted == "host" or (accepted == "target" and value == 0) else PORT_NUMBERS
            if value not in allowed:
                findings.append(Finding(manifest.ref, field, "not a port number: the API server refuses it",
                                        expected=f"{allowed.start}-{allowed.stop - 1}", found=value, where=where))
        elif isinstance(value, str) and accepted in ("target", "number or name"):
            if value == "" and accepted == "target":
                continue  # the API server's default: the Service port itself
            if value.isascii() and value.isdigit():
                findings.append(Finding(manifest.ref, field, (
                    "a number in quotes is a port name to Kubernetes, and a name needs a letter: the API server "
                    "refuses it; write the number without quotes"),
                    expected="a number 1-65535 or a port name such as http", found=f'"{value}"', where=where))
            elif len(value) > 15 or not _IANA_SERVICE_NAME.match(value):
                findings.append(Finding(manifest.ref, field, (
                    "not a valid port name, the API server refuses it: at most 15 characters, lowercase letters, "
                    "digits and single hyphens inside, at least one letter"),
                    expected="a number 1-65535 or a port name such as http", found=value, where=where))
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


@functools.cache
def _schema_names() -> frozenset[str]:
    """The files of the strict schemas: a name from a submission is looked up here, so
    a learner's text never reaches the file system (a kind may be long or hold a NUL)."""
    return frozenset(path.name for path in schema_dir().iterdir())


def schema_file(name: str) -> dict[str, Any] | None:
    """One file of the strict schemas (`service-v1.json`, `_definitions.json`), or None."""
    if name not in _schema_names():
        return None
    schema: dict[str, Any] = json.loads((schema_dir() / name).read_text())
    return schema


@functools.cache
def _definitions() -> dict[str, Any]:
    """The shared `_definitions.json` (1.5 MB) every kind's schema refers to."""
    definitions = schema_file("_definitions.json")
    assert definitions is not None, "kubernetes-validate ships _definitions.json"
    found: dict[str, Any] = definitions["$defs"]
    return found


def validator_for(api_version: str, kind: str) -> SchemaValidator | None:
    """The validator of `kind` in `api_version`, or None when Kubernetes has no such kind."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    name = f"{kind.lower()}-{group_version}.json"
    return _validator(name) if name in _schema_names() else None


@functools.cache
def _validator(name: str) -> SchemaValidator | None:
    """Cached by schema file, so that hostile kinds cannot grow the cache."""
    schema = schema_file(name)
    return SchemaValidator(schema, _definitions()) if schema is not None else None
