"""The grader's own validator of the Kubernetes JSON schemas, checked against the
`jsonschema` package (draft 2020-12) on the same schemas: same violations, at the same
field paths, for valid objects and for many kinds of broken ones; and the schemas use
no keyword the validator does not implement."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml

from grader.schema import VALIDATED_KEYWORDS, schema_dir, schema_file, validator_for
from tests.conftest import REPO

# Keywords of the schemas that are annotations: they never make an instance invalid.
ANNOTATIONS = {"description", "format", "$schema", "$id", "$defs", "discriminator", "fields-to-discriminateBy",
               "x-kubernetes-group-version-kind", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
               "x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key", "x-kubernetes-map-type",
               "x-kubernetes-unions", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
               "x-kubernetes-embedded-resource", "default"}


def keywords(schema: dict[str, Any], found: set[str]) -> set[str]:
    """Every keyword of `schema` and of the schemas inside it (not inside annotations)."""
    found |= set(schema)
    subschemas = [*schema.get("properties", {}).values(), *schema.get("$defs", {}).values(),
                  *schema.get("oneOf", [])]
    subschemas += [schema[key] for key in ("items", "additionalProperties") if isinstance(schema.get(key), dict)]
    for sub in subschemas:
        keywords(sub, found)
    return found


def test_the_schemas_use_only_validated_keywords_and_local_refs():
    used: set[str] = set()
    refs: set[str] = set()
    for path in schema_dir().glob("*.json"):
        schema = json.loads(path.read_text())
        keywords(schema, used)
        refs |= set(_refs(schema))
    assert used - VALIDATED_KEYWORDS - ANNOTATIONS == set()
    assert {ref.split("#")[0] for ref in refs} <= {"", "/api/_definitions.json"}
    assert all("#/$defs/" in ref for ref in refs)


def _refs(schema: Any):
    if isinstance(schema, dict):
        if isinstance(schema.get("$ref"), str):
            yield schema["$ref"]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


@pytest.fixture(scope="module")
def oracle():
    """jsonschema's own Draft 2020-12 validator over the same files (slow to import: tests only)."""
    import jsonschema
    import referencing

    registry = referencing.Resource.from_contents(schema_file("_definitions.json")) @ referencing.Registry()

    def errors(api_version: str, kind: str, body: dict) -> set[tuple[str, tuple]]:
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # networking.k8s.io/v1: networking-v1
        schema = schema_file(f"{kind.lower()}-{group_version}.json")
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        return {(e.validator, tuple(e.absolute_path)) for e in validator.iter_errors(body)}
    return errors


def ours(api_version: str, kind: str, body: dict) -> set[tuple[str, tuple]]:
    validator = validator_for(api_version, kind)
    assert validator is not None
    return {(e.keyword, e.path) for e in validator.errors(body)}


REFERENCES = [(lab, doc) for lab in ("checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4")
              for doc in yaml.safe_load_all((REPO / "k8s" / "reference" / f"{lab}.yaml").read_text()) if doc]


def mutations(body: dict):
    """Changed copies of `body`, most of them broken: every kind of violation the schemas
    can report, and edge cases both validators must accept."""
    def changed(change, breaks=True):
        copied = copy.deepcopy(body)
        change(copied)
        return copied, breaks
    yield changed(lambda b: b.update(spek={}))  # unknown field at the top
    yield changed(lambda b: b["metadata"].update(name=5))  # wrong type
    yield changed(lambda b: b["metadata"].update(labels=["a"]))  # array for an object
    yield changed(lambda b: b.update(kind="Nope"))  # enum (kind and apiVersion are the schemas' enums)
    spec = body.get("spec", {})
    if body["kind"] == "Service":
        yield changed(lambda b: b["spec"]["ports"][0].update(targetPort=True))  # int-or-string: neither
        yield changed(lambda b: b["spec"]["ports"][0].update(targetPort=None))  # oneOf: null matches both
        yield changed(lambda b: b["spec"]["ports"][0].update(port=8080.0), breaks=False)  # integral float: an integer
        yield changed(lambda b: b["spec"]["ports"][0].update(port=8080.5))
        yield changed(lambda b: b["spec"]["ports"][0].pop("port"))  # required
        yield changed(lambda b: b["spec"].update(selectr=b["spec"].pop("selector"), typo=1))  # two unknown fields
        yield changed(lambda b: b["spec"].update(ports=5))  # scalar for a list
        yield changed(lambda b: b["spec"].update(type="Public"), breaks=False)  # no enum in 1.34's schema
        yield changed(lambda b: b["spec"]["ports"][0].update(protocol="ICMP"), breaks=False)  # no enum either
    if "template" in spec:
        yield changed(lambda b: b["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicy=1))
        yield changed(lambda b: b["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicy="Sometimes"),
                      breaks=False)  # no enum in 1.34's schema
        yield changed(lambda b: b["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(containerPort="x"))
        yield changed(lambda b: b["spec"]["template"]["spec"]["containers"][0].pop("name"))
        yield changed(lambda b: b["spec"]["template"]["spec"].update(containers=[5, {"nme": "x"}]))
        yield changed(lambda b: b["spec"].update(replicas=True))  # a boolean is not an integer


CASES = [(f"{lab}:{doc['kind']}/{doc['metadata']['name']}#{i}", (doc["apiVersion"], doc["kind"]), case, breaks)
         for lab, doc in REFERENCES for i, (case, breaks) in enumerate([(doc, False), *mutations(doc)])]


@pytest.mark.parametrize("name, schema, body, breaks", CASES, ids=[case[0] for case in CASES])
def test_same_violations_as_jsonschema(oracle, name, schema, body, breaks):
    expected = oracle(*schema, body)
    assert ours(*schema, body) == expected
    assert bool(expected) is breaks


def test_null_where_the_schema_allows_it_is_valid_for_both(oracle):
    body = {"apiVersion": "v1", "kind": "Service", "metadata": None, "spec": {"ports": None, "selector": None}}
    assert ours("v1", "Service", body) == oracle("v1", "Service", body) == set()


def test_unknown_kind_has_no_validator():
    assert validator_for("v1", "Servise") is None
    assert validator_for("apps/v1", "../../etc/passwd") is None
