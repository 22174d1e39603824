"""Checkpoint 4's publication rules: the reference Ingress passes, a Gateway API
HTTPRoute is accepted instead, and each mistake fails with the right cause."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from grader import route_rules as rules
from grader.loading import load_text
from grader.submission import Submission
from tests.checkpoint4 import API_RULE, REFERENCE, reference, submission_of, with_route


def obj(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def mutate(change: Callable[[list[dict]], object], docs: list[dict] | None = None) -> list[dict]:
    docs = reference() if docs is None else copy.deepcopy(docs)
    change(docs)
    return docs


def texts(findings) -> str:
    return "\n".join(map(str, findings))


def test_the_reference_ingress_passes():
    submission = submission_of(reference())
    assert rules.ingress_rules(submission) == []
    assert {rule: check(submission) for rule, check in rules.RULES.items()} == {rule: [] for rule in rules.RULES}


# ---- Ingress mistakes ---------------------------------------------------------------------


def ingress(docs: list[dict]) -> dict:
    return obj(docs, "Ingress", "web")


def path_entry(docs: list[dict], index: int) -> dict:
    return ingress(docs)["spec"]["rules"][0]["http"]["paths"][index]


def backend_port(docs: list[dict], index: int) -> dict:
    return path_entry(docs, index)["backend"]["service"]["port"]


API_PATH = {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 8080}}}}
INGRESS_MISTAKES: dict[str, tuple[Callable[[list[dict]], object], list[str]]] = {
    # name: (change, words one finding must contain)
    "a port the Service lacks": (lambda d: [backend_port(d, 0).pop("name"), backend_port(d, 0).update(number=80)],
                                 ["Ingress/web", "spec.rules[0].http.paths[0].backend.service.port.number",
                                  "Service/web has no port 80", "not a container port", "http=8080", "found 80"]),
    "a port name the Service lacks": (lambda d: backend_port(d, 0).update(name="htpp"),
                                      ["port.name", "Service/web has no port named 'htpp'"]),
    "a container port name instead of the Service's": (
        lambda d: [obj(d, "Service", "web")["spec"]["ports"][0].update(name="web")],
        ["Service/web has no port named 'http'", "web=8080"]),
    "name and number both": (lambda d: backend_port(d, 0).update(number=8080), ["both name and number"]),
    "no port": (lambda d: path_entry(d, 0)["backend"]["service"].pop("port"), ["no port", "Service/web"]),
    "/ sent to api": (lambda d: path_entry(d, 0)["backend"]["service"].update(name="api"),
                      ["paths[0].backend.service.name", "belongs to Service web", "found api"]),
    "no / path": (lambda d: path_entry(d, 0).update(path="/shop"), ["no path / ", "Service web"]),
    "api published at /api": (lambda d: ingress(d)["spec"]["rules"][0]["http"]["paths"].append(API_PATH),
                              ["paths[1].backend.service.name", "publishes Service api to the outside", "found api"]),
    "db as the default backend": (
        lambda d: ingress(d)["spec"].update(defaultBackend={"service": {"name": "db", "port": {"number": 6379}}}),
        ["spec.defaultBackend.service.name", "publishes Service db"]),
    "Exact instead of Prefix": (lambda d: path_entry(d, 0).update(pathType="Exact"),
                                ["paths[0].pathType", "expected Prefix, found Exact"]),
    "the Service is missing": (lambda d: d.remove(obj(d, "Service", "web")), ["no Service named 'web'", "503"]),
    "no ingressClassName": (lambda d: ingress(d)["spec"].pop("ingressClassName"),
                            ["spec.ingressClassName", "not set", "expected haproxy"]),
    "another class": (lambda d: ingress(d)["spec"].update(ingressClassName="nginx"),
                      ["spec.ingressClassName", "expected haproxy, found nginx"]),
    "the deprecated class annotation": (
        lambda d: [ingress(d)["spec"].pop("ingressClassName"),
                   ingress(d)["metadata"].update(annotations={"kubernetes.io/ingress.class": "haproxy"})],
        ["metadata.annotations.kubernetes.io/ingress.class", "deprecated"]),
    "another host": (lambda d: ingress(d)["spec"]["rules"][0].update(host="firstapp.local"),
                     ["spec.rules[0].host", "expected firstapp.localhost, found firstapp.local"]),
    "no host": (lambda d: ingress(d)["spec"]["rules"][0].pop("host"), ["spec.rules[0].host", "every host name"]),
    "a defaultBackend to a missing Service": (
        lambda d: ingress(d)["spec"].update(defaultBackend={"service": {"name": "frontend", "port": {"number": 80}}}),
        ["spec.defaultBackend.service.name", "no Service named 'frontend'"]),
    "a resource backend": (lambda d: path_entry(d, 0).update(
        backend={"resource": {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "static"}}),
        ["paths[0].backend.resource", "not a Service"]),
    "the Ingress named otherwise": (lambda d: ingress(d)["metadata"].update(name="firstapp"),
                                    ["Ingress/web", "no Ingress named 'web'", "found Ingress/firstapp"]),
}


@pytest.mark.parametrize("name", list(INGRESS_MISTAKES))
def test_each_ingress_mistake_fails_with_its_cause(name):
    change, words = INGRESS_MISTAKES[name]
    submission = submission_of(mutate(change))
    findings = rules.ingress_rules(submission)
    assert findings, "no finding"
    assert any(all(word in str(f) for word in words) for f in findings), texts(findings)
    assert rules.web_published(submission) != []


def test_a_finding_points_at_the_line_of_the_port():
    text = REFERENCE.read_text().replace("port: {name: http}", "port: {number: 80}")
    findings = rules.ingress_rules(Submission(load_text(text, "cp4.yaml"), services_only=False))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "port: {number: 80}" in row)
    assert [f.where for f in findings] == [f"cp4.yaml, document 14, line {line}"], texts(findings)


INGRESS_VARIANTS: dict[str, Callable[[list[dict]], object]] = {
    "the port by number": lambda d: [backend_port(d, 0).pop("name"), backend_port(d, 0).update(number=8080)],
    "another Service port number, used as defined": lambda d: [
        obj(d, "Service", "web")["spec"]["ports"][0].update(port=80), backend_port(d, 0).pop("name"),
        backend_port(d, 0).update(number=80)],
    "trailing slash on a second web path": lambda d: ingress(d)["spec"]["rules"][0]["http"]["paths"].append(
        {"path": "/shop/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}),
    "web as the default backend too": lambda d: ingress(d)["spec"].update(
        defaultBackend={"service": {"name": "web", "port": {"number": 8080}}}),
}


@pytest.mark.parametrize("name", list(INGRESS_VARIANTS))
def test_every_valid_ingress_passes(name):
    assert texts(rules.ingress_rules(submission_of(mutate(INGRESS_VARIANTS[name])))) == ""


def test_no_ingress_and_no_route_means_web_is_not_published():
    docs = mutate(lambda d: d.remove(ingress(d)))
    findings = rules.web_published(submission_of(docs))
    assert "nothing publishes web" in texts(findings)


def test_a_node_port_beside_the_ingress_is_a_second_way_in():
    docs = mutate(lambda d: obj(d, "Service", "web")["spec"].update(type="NodePort"))
    assert "Service/web spec.type" in texts(rules.services_cluster_ip(submission_of(docs)))
    assert rules.web_published(submission_of(docs)) == []


# ---- the HTTPRoute alternative --------------------------------------------------------------

def route(docs: list[dict]) -> dict:
    return obj(docs, "HTTPRoute", "web")


def backend_ref(docs: list[dict], rule: int) -> dict:
    return route(docs)["spec"]["rules"][rule]["backendRefs"][0]


def test_an_httproute_publishes_web_instead_of_an_ingress():
    submission = submission_of(with_route())
    assert rules.httproute_rules(submission) == []
    assert rules.web_published(submission) == []
    assert "no Ingress named 'web'" in texts(rules.ingress_rules(submission))


def test_a_correct_route_beside_a_wrong_ingress_publishes_web():
    docs = [*with_route(), obj(mutate(lambda d: backend_port(d, 0).update(name="htpp")), "Ingress", "web")]
    submission = submission_of(docs)
    assert rules.ingress_rules(submission) != [] and rules.web_published(submission) == []


ROUTE_MISTAKES: dict[str, tuple[Callable[[list[dict]], object], list[str]]] = {
    "a wrong port": (lambda d: backend_ref(d, 0).update(port=80),
                     ["HTTPRoute/web", "spec.rules[0].backendRefs[0].port", "Service/web has no port 80", "http=8080"]),
    "a port name": (lambda d: backend_ref(d, 0).update(port="http"), ["number, not its name"]),
    "no port": (lambda d: backend_ref(d, 0).pop("port"), ["backendRefs[0].port", "no port"]),
    "/ to api": (lambda d: backend_ref(d, 0).update(name="api"), ["belongs to Service web"]),
    "api published at /api": (lambda d: route(d)["spec"]["rules"].append(copy.deepcopy(API_RULE)),
                              ["spec.rules[1].backendRefs[0].name", "publishes Service api to the outside"]),
    "no backendRefs": (lambda d: route(d)["spec"]["rules"][0].pop("backendRefs"), ["no backendRefs"]),
    "Exact path": (lambda d: route(d)["spec"]["rules"][0]["matches"][0]["path"].update(type="Exact"),
                   ["spec.rules[0].matches[0].path.type", "expected PathPrefix, found Exact"]),
    "no / rule": (lambda d: route(d)["spec"]["rules"][0]["matches"][0]["path"].update(value="/shop"),
                  ["no rule matches /"]),
    "no parentRefs": (lambda d: route(d)["spec"].pop("parentRefs"), ["spec.parentRefs", "no Gateway"]),
    "a parentRef to another Gateway": (lambda d: route(d)["spec"]["parentRefs"][0].update(name="public"),
                                       ["spec.parentRefs[0].name", "names no Gateway", "expected firstapp"]),
    "a sectionName the Gateway lacks": (lambda d: route(d)["spec"]["parentRefs"][0].update(sectionName="https"),
                                        ["Gateway/firstapp", "no listener named 'https'"]),
    "a Gateway without a class": (lambda d: obj(d, "Gateway", "firstapp")["spec"].pop("gatewayClassName"),
                                  ["Gateway/firstapp", "spec.gatewayClassName", "not set"]),
    "no hostnames": (lambda d: route(d)["spec"].pop("hostnames"), ["spec.hostnames", "every host"]),
    "another apiVersion": (lambda d: route(d).update(apiVersion="networking.k8s.io/v1"), ["apiVersion", "Gateway API"]),
    "the Service is missing": (lambda d: d.remove(obj(d, "Service", "web")), ["no Service named 'web'"]),
}


@pytest.mark.parametrize("name", list(ROUTE_MISTAKES))
def test_each_httproute_mistake_fails_with_its_cause(name):
    change, words = ROUTE_MISTAKES[name]
    submission = submission_of(mutate(change, with_route()))
    findings = rules.httproute_rules(submission)
    assert any(all(word in str(f) for word in words) for f in findings), texts(findings)
    assert rules.web_published(submission) == findings


def test_a_route_without_matches_is_pathprefix_slash():
    docs = mutate(lambda d: route(d)["spec"]["rules"][0].pop("matches"), with_route())
    assert rules.httproute_rules(submission_of(docs)) == []


def test_a_route_and_its_gateway_are_valid_objects_for_the_checkpoint():
    from grader.run import grade_static

    submission = submission_of(with_route())
    result = grade_static("checkpoint-4", submission.manifests)
    assert {c.id for c in result.checks if not c.passed} == set(), [c.hint for c in result.checks if not c.passed]
    broken = mutate(lambda d: route(d).pop("spec"), with_route())
    failing = {c.id: c.hint for c in grade_static("checkpoint-4", submission_of(broken).manifests).checks if not c.passed}
    assert "HTTPRoute/web spec" in failing["manifests-valid"]
