"""Checkpoint 4's reference answer as documents to change, and a submission made of
them: shared by the policy and route rules' tables and the cluster's truth table."""

from __future__ import annotations

import copy
import functools

import yaml

from grader.loading import load_text
from grader.submission import Submission
from tests.conftest import REPO

REFERENCE = REPO / "k8s" / "reference" / "checkpoint-4.yaml"
# libyaml where PyYAML has it: the tables load a hundred submissions.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@functools.cache
def _reference() -> tuple[dict, ...]:
    return tuple(d for d in yaml.load_all(REFERENCE.read_text(), Loader=LOADER) if d)


def reference() -> list[dict]:
    """A fresh copy of the reference's documents, free to change."""
    return copy.deepcopy(list(_reference()))


def hosted(docs: list[dict], host: str) -> list[dict]:
    """`docs` publishing `host` (a class learner's) in place of firstapp.localhost: every
    Ingress rule's host and every HTTPRoute's hostnames."""
    for doc in docs:
        for rule in doc["spec"].get("rules", []) if doc["kind"] == "Ingress" else []:
            rule["host"] = host
        if doc["kind"] == "HTTPRoute":
            doc["spec"]["hostnames"] = [host]
    return docs


def submission_of(docs: list[dict]) -> Submission:
    return Submission(load_text(yaml.dump_all(docs, Dumper=DUMPER, sort_keys=False), "submission.yaml"),
                      services_only=False)


# The Gateway API alternative to the reference's Ingress: a Gateway and an HTTPRoute for web.
GATEWAY = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "firstapp"},
           "spec": {"gatewayClassName": "haproxy",
                    "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "hostname": "firstapp.localhost"}]}}
HTTPROUTE = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "web"},
             "spec": {"parentRefs": [{"name": "firstapp"}], "hostnames": ["firstapp.localhost"],
                      "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                 "backendRefs": [{"name": "web", "port": 8080}]}]}}
API_RULE = {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}], "backendRefs": [{"name": "api", "port": 8080}]}


def with_route() -> list[dict]:
    docs = [d for d in reference() if d["kind"] != "Ingress"]
    return [*docs, copy.deepcopy(GATEWAY), copy.deepcopy(HTTPROUTE)]
