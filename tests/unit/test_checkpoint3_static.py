"""Checkpoint 3's static rules: each mistake class fails the right check with a hint
naming object, field, expected and found; each valid design passes."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from grader.loading import load_text
from grader.run import grade_static
from tests.conftest import REFERENCE_CHECKPOINT_3


def reference() -> list[dict]:
    return list(yaml.safe_load_all(REFERENCE_CHECKPOINT_3.read_text()))


def obj(docs: list[dict], kind: str, name: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def grade(docs: list[dict]):
    text = "\n---\n".join(yaml.safe_dump(d) for d in docs)
    return grade_static("checkpoint-3", load_text(text, "submission.yaml"))


def failed(result) -> dict[str, str]:
    return {c.id: c.hint for c in result.checks if not c.passed}


def mutate(change):
    docs = reference()
    change(docs)
    return docs


def services_only(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] == "Service"]


def test_reference_solution_gets_full_score():
    result = grade(reference())
    assert failed(result) == {}
    assert result.score == result.max_score == 13


MISTAKES = {
    # name: (change, failing check, words the hint must contain)
    "selector typo": (lambda d: obj(d, "Service", "web")["spec"].update(selector={"app": "wbe"}),
                      "web-service-selector", ["Service/web", "spec.selector", "selects no pod", "wbe"]),
    "selector of another tier": (lambda d: obj(d, "Service", "api")["spec"].update(selector={"app": "db"}),
                                 "api-service-selector", ["Service/api", "StatefulSet/db", "another tier"]),
    "selector matching several tiers": (
        lambda d: [obj(d, k, n)["spec"]["template"]["metadata"]["labels"].update(tier="backend")
                   for k, n in (("Deployment", "api"), ("StatefulSet", "db"))]
        and obj(d, "Service", "api")["spec"].update(selector={"tier": "backend"}),
        "api-service-selector", ["several workloads", "Deployment/api", "StatefulSet/db"]),
    "no selector": (lambda d: obj(d, "Service", "db")["spec"].pop("selector"),
                    "db-service-selector", ["Service/db", "spec.selector", "no selector"]),
    "wrong numeric targetPort": (lambda d: obj(d, "Service", "api")["spec"]["ports"][0].update(targetPort=8081),
                                 "api-service-target-port",
                                 ["spec.ports[0].targetPort", "8081", "http=8080/TCP", "refused"]),
    "wrong named targetPort": (lambda d: obj(d, "Service", "db")["spec"]["ports"][0].update(targetPort="redsi"),
                               "db-service-target-port", ["no container port is named 'redsi'", "redis=6379/TCP"]),
    "protocol mismatch": (lambda d: obj(d, "Service", "web")["spec"]["ports"][0].update(protocol="UDP"),
                          "web-service-target-port", ["protocol TCP", "UDP"]),
    "web not reachable from outside": (lambda d: obj(d, "Service", "web")["spec"].update(type="ClusterIP"),
                                       "web-service-type", ["spec.type", "expected NodePort, found ClusterIP"]),
    "api exposed as NodePort": (lambda d: obj(d, "Service", "api")["spec"].update(type="NodePort"),
                                "api-service-type", ["Service/api", "expected ClusterIP", "found NodePort"]),
    "db exposed as LoadBalancer": (lambda d: obj(d, "Service", "db")["spec"].update(
                                       type="LoadBalancer", clusterIP=None),
                                   "db-service-type", ["Service/db", "found LoadBalancer"]),
    "api with externalIPs": (lambda d: obj(d, "Service", "api")["spec"].update(externalIPs=["192.0.2.10"]),
                             "api-service-type", ["spec.externalIPs", "192.0.2.10"]),
    "nodePort unset": (lambda d: obj(d, "Service", "web")["spec"]["ports"][0].pop("nodePort"),
                       "web-node-port", ["spec.ports[0].nodePort", "random port", "expected 30080"]),
    "nodePort out of range": (lambda d: obj(d, "Service", "web")["spec"]["ports"][0].update(nodePort=80),
                              "web-node-port", ["30000-32767", "found 80"]),
    "nodePort in range but not the course's": (
        lambda d: obj(d, "Service", "web")["spec"]["ports"][0].update(nodePort=30081),
        "web-node-port", ["expected 30080, found 30081"]),
    "container port name too long": (
        lambda d: obj(d, "StatefulSet", "db")["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
            name="redis-primary-port") or obj(d, "Service", "db")["spec"]["ports"][0].update(
            targetPort="redis-primary-port"),
        "port-names", ["StatefulSet/db", "spec.template.spec.containers[0].ports[0].name", "15 characters",
                       "redis-primary-port"]),
    "several unnamed service ports": (
        lambda d: obj(d, "Service", "api")["spec"].update(ports=[{"port": 8080, "targetPort": 8080},
                                                                 {"port": 9090, "targetPort": 8080}]),
        "port-names", ["spec.ports[0].name", "must name each one"]),
    "misspelled field": (lambda d: obj(d, "Service", "web")["spec"].update(selectr=obj(d, "Service", "web")["spec"].pop("selector")),
                         "manifests-valid", ["Service/web", "spec.selectr", "unknown field"]),
    "missing service": (lambda d: d.remove(obj(d, "Service", "db")),
                        "db-service-selector", ["Service/db", "no Service named 'db'"]),
    "another service exposes api": (
        lambda d: d.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api-debug"},
                            "spec": {"type": "NodePort", "selector": {"app": "api"},
                                     "ports": [{"port": 8080, "nodePort": 31000}]}}),
        "no-extra-exposure", ["Service/api-debug", "found NodePort"]),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_mistake_fails_the_right_check_with_a_precise_hint(name):
    change, check_id, words = MISTAKES[name]
    result = grade(mutate(change))
    failures = failed(result)
    assert check_id in failures, failures
    for word in words:
        assert word in failures[check_id], f"{word!r} not in hint:\n{failures[check_id]}"
    assert result.score < result.max_score


def test_missing_service_fails_every_check_of_that_tier():
    result = grade(mutate(lambda d: d.remove(obj(d, "Service", "db"))))
    assert {"db-service-selector", "db-service-target-port", "db-service-type"} <= set(failed(result))
    assert "web-service-selector" not in failed(result)


def _as_list(docs):
    services = services_only(docs)
    return [d for d in docs if d["kind"] != "Service"] + [{"apiVersion": "v1", "kind": "List", "items": services}]


VALID_VARIANTS = {
    "numeric targetPorts": lambda d: [obj(d, "Service", n)["spec"]["ports"][0].update(targetPort=p)
                                      for n, p in (("web", 8080), ("api", 8080), ("db", 6379))],
    "implicit ClusterIP": lambda d: obj(d, "Service", "api")["spec"].pop("type"),
    "db with a cluster IP": lambda d: obj(d, "Service", "db")["spec"].pop("clusterIP"),
    "headless api": lambda d: obj(d, "Service", "api")["spec"].update(clusterIP="None"),
    "other service port numbers": lambda d: obj(d, "Service", "web")["spec"]["ports"][0].update(port=80),
    "targetPort omitted, equal to port": lambda d: obj(d, "Service", "db")["spec"]["ports"][0].pop("targetPort"),
    "other container ports, consistent": lambda d: (
        obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(containerPort=9000),
        obj(d, "Service", "api")["spec"]["ports"][0].update(targetPort=9000)),
    "extra labels in selector and template": lambda d: (
        obj(d, "Deployment", "web")["spec"]["template"]["metadata"]["labels"].update(tier="frontend"),
        obj(d, "Service", "web")["spec"]["selector"].update(tier="frontend")),
}


@pytest.mark.parametrize("name", list(VALID_VARIANTS))
def test_every_valid_design_passes(name):
    result = grade(mutate(VALID_VARIANTS[name]))
    assert failed(result) == {}


def test_services_inside_a_kind_list_pass():
    assert failed(grade(_as_list(reference()))) == {}


def test_services_only_are_graded_against_the_course_workloads():
    assert failed(grade(services_only(reference()))) == {}
    wrong = services_only(mutate(lambda d: obj(d, "Service", "api")["spec"].update(selector={"app": "apu"})))
    assert "api-service-selector" in failed(grade(wrong))


def test_json_submission_passes():
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": reference()})
    assert failed(grade_static("checkpoint-3", load_text(text, "s.json"))) == {}


def test_directory_submission(tmp_path):
    for index, doc in enumerate(copy.deepcopy(reference())):
        (tmp_path / f"{index:02d}-{doc['metadata']['name']}.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "README.txt").write_text("not a manifest")
    assert failed(grade_static("checkpoint-3", tmp_path)) == {}


def test_malformed_fields_are_findings_not_crashes():
    docs = mutate(lambda d: (obj(d, "Service", "web").update(spec={"selector": "app=web", "ports": "80"}),
                             obj(d, "Deployment", "api")["spec"]["template"].update(spec={"containers": "x"})))
    result = grade(docs)
    assert {"manifests-valid", "web-service-selector", "web-service-target-port"} <= set(failed(result))


PORT_VALUES_THE_API_SERVER_REFUSES = {
    # name: (change, field path, words in the manifests-valid hint, other failing check)
    "quoted numeric targetPort": (lambda d: obj(d, "Service", "api")["spec"]["ports"][0].update(targetPort="8080"),
                                  "Service/api spec.ports[0].targetPort", ['found "8080"', "without quotes"],
                                  "api-service-target-port"),
    "Service port above 65535": (lambda d: obj(d, "Service", "web")["spec"]["ports"][0].update(port=70000),
                                 "Service/web spec.ports[0].port", ["expected 1-65535, found 70000"], None),
    "Service port 0": (lambda d: obj(d, "Service", "db")["spec"]["ports"][0].update(port=0),
                       "Service/db spec.ports[0].port", ["found 0"], None),
    "negative targetPort": (lambda d: obj(d, "Service", "api")["spec"]["ports"][0].update(targetPort=-1),
                            "Service/api spec.ports[0].targetPort", ["found -1"], "api-service-target-port"),
    "containerPort above 65535": (
        lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]["ports"][0].update(
            containerPort=80800),
        "Deployment/api spec.template.spec.containers[0].ports[0].containerPort", ["found 80800"], None),
    "probe port quoted number": (
        lambda d: obj(d, "StatefulSet", "db")["spec"]["template"]["spec"]["containers"][0].update(
            livenessProbe={"tcpSocket": {"port": "6379"}}),
        "StatefulSet/db spec.template.spec.containers[0].livenessProbe.tcpSocket.port", ['"6379"'], None),
    "targetPort not a port name": (lambda d: obj(d, "Service", "db")["spec"]["ports"][0].update(targetPort="Redis_Port"),
                                   "Service/db spec.ports[0].targetPort", ["not a valid port name", "Redis_Port"],
                                   "db-service-target-port"),
}


@pytest.mark.parametrize("name", list(PORT_VALUES_THE_API_SERVER_REFUSES))
def test_port_values_the_api_server_refuses_fail_manifests_valid(name):
    change, where, words, also_failing = PORT_VALUES_THE_API_SERVER_REFUSES[name]
    failures = failed(grade(mutate(change)))
    assert "manifests-valid" in failures, failures
    assert where in failures["manifests-valid"]
    for word in words:
        assert word in failures["manifests-valid"], failures["manifests-valid"]
    if also_failing:
        assert also_failing in failures


def test_targetport_zero_or_empty_is_the_service_port():
    """The API server defaults targetPort 0 and "" to the Service port."""
    assert failed(grade(mutate(lambda d: obj(d, "Service", "api")["spec"]["ports"][0].update(targetPort=0)))) == {}
    assert failed(grade(mutate(lambda d: obj(d, "Service", "db")["spec"]["ports"][0].update(targetPort="")))) == {}


@pytest.mark.parametrize("change", [
    lambda d: obj(d, "Service", "web")["spec"].update(ports=5),
    lambda d: obj(d, "Service", "web")["spec"].update(ports="8080"),
    lambda d: obj(d, "Service", "web")["spec"].update(ports=[5, None, "x"]),
    lambda d: obj(d, "Deployment", "web")["spec"]["template"]["spec"].update(containers=5),
    lambda d: obj(d, "Deployment", "web")["spec"]["template"]["spec"].update(containers="web"),
    lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0].update(ports=5),
    lambda d: obj(d, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0].update(livenessProbe=5),
    lambda d: obj(d, "Deployment", "api")["spec"]["template"].update(metadata={"labels": 5}),
    lambda d: obj(d, "Service", "api")["spec"].update(selector=[1]),
], ids=["ports-int", "ports-str", "ports-items", "containers-int", "containers-str", "container-ports-int",
        "probe-int", "labels-int", "selector-list"])
@pytest.mark.parametrize("lab", ["checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4"])
def test_a_scalar_where_a_list_belongs_is_a_finding(change, lab):
    text = "\n---\n".join(yaml.safe_dump(d) for d in mutate(change))
    result = grade_static(lab, load_text(text, "submission.yaml"))
    assert "manifests-valid" in failed(result)
