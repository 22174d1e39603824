"""Checkpoint 4 graded live, as `firstapp grade` and the lab notebook grade it: the
reference scores full marks (its readiness seen with db taken away), and each hidden
mistake fails the checks it should, with a cause, on real packets. One Ingress may claim
firstapp.localhost at a time, so the mistakes that are not about publishing are
deployed without one, side by side, and the publishing ones one after another."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from grader.run import grade_live
from tests.checkpoint4 import reference, with_route
from tests.cluster.test_live_grading import deploy, failed

pytestmark = pytest.mark.cluster


def without_ingress(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] != "Ingress"]


def policy(docs: list[dict], name: str) -> dict:
    return next(d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == name)


def firstapp(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("firstapp")), *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def publishing(cluster, namespace):
    """A namespace whose Ingress goes as soon as the test ends: a terminating namespace
    keeps its Ingress for a while, and with it the claim on firstapp.localhost."""
    yield namespace
    cluster.networking.delete_collection_namespaced_ingress(namespace)


def test_the_reference_scores_full_marks_with_real_packets_and_db_taken_away(cluster, publishing, tmp_path):
    namespace = publishing
    submission = deploy(cluster, namespace, reference(), tmp_path=tmp_path)
    run = firstapp("grade", "checkpoint-4", "--namespace", namespace, "--manifests", str(submission),
                   "--allow-disruption", "--format", "json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["score"] == report["max_score"] == 16, [c for c in report["checks"] if not c["passed"]]
    cells = report["connectivity"]
    assert len([c for c in cells if c["observed"] != "not probed"]) >= 20
    assert all(c["observed"] in (c["expected"], "not probed") for c in cells), cells
    assert {(c["from"], c["tier"]) for c in cells if c["observed"] == "allowed"} == {("web", "api"), ("api", "db")}
    assert [r["observed"] for r in report["routes"] if r["from"].startswith("host, through")] == ["allowed"]
    # db came back: the app still answers end to end, inside the namespace
    assert cluster.apps.read_namespaced_stateful_set("db", namespace).spec.replicas == 1


Mistake = Callable[[list[dict]], object]
# name: (change to the reference, the checks it must fail, words one finding of the first must hold)
MISTAKES: dict[str, tuple[Mistake, set[str], list[str]]] = {
    "a policy that selects nothing": (
        lambda d: policy(d, "api-from-web")["spec"]["ingress"][0]["from"][0].update(
            podSelector={"matchLabels": {"app": "frontend"}}),
        {"policy-selectors", "connectivity", "connectivity-live"}, ["selects nothing", "frontend"]),
    "a forgotten DNS egress": (
        lambda d: d.remove(policy(d, "dns-for-web-and-api")),
        {"dns-egress", "connectivity-live", "workloads-available"}, ["forgets DNS egress", "53"]),
    "an empty `from` that lets everyone reach db": (
        lambda d: policy(d, "db-from-api")["spec"]["ingress"][0].pop("from"),
        # default-deny still isolates every other pod for egress, so no packet shows it: the rules do
        {"db-api-not-wide-open", "connectivity"}, ["allows every source to db"]),
    "no readiness probe on api": (
        lambda d: next(x for x in d if x["metadata"]["name"] == "api" and x["kind"] == "Deployment")["spec"][
            "template"]["spec"]["containers"][0].pop("readinessProbe"),
        {"api-readiness", "api-readiness-live"}, ["no readiness probe"]),
}

API_UNREADY = {"a forgotten DNS egress"}


@pytest.fixture(scope="module")
def mistakes(cluster, tmp_path_factory):
    """Every mistake applied in a namespace of its own at once (no Ingress: see the
    module's docstring), then graded live with the disruption allowed."""
    spaces = {name: f"test-cp4-{index}-{tmp_path_factory.mktemp('x').name[-6:]}" for index, name in
              enumerate(MISTAKES)}
    submissions = {}
    try:
        for name, (change, _, _) in MISTAKES.items():
            docs = without_ingress(reference())
            change(docs)
            cluster.ensure_namespace(spaces[name])
            cluster.apply(docs, spaces[name])
            path = tmp_path_factory.mktemp(name.replace(" ", "-")[:20]) / "submission.yaml"
            path.write_text(yaml.safe_dump_all(docs))
            submissions[name] = path
        for name in MISTAKES:  # api stays unready without DNS: it cannot find db
            ready = ["Deployment/web", "StatefulSet/db", *([] if name in API_UNREADY else ["Deployment/api"])]
            cluster.wait_available(spaces[name], ready, timeout=120)
        yield {name: grade_live("checkpoint-4", spaces[name], submissions[name], cluster=cluster,
                                allow_disruption=True) for name in MISTAKES}
    finally:
        for space in spaces.values():
            cluster.delete_namespace(space, wait=0)


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_hidden_mistake_fails_the_right_checks_with_a_cause(mistakes, name):
    _, checks, words = MISTAKES[name]
    result = mistakes[name]
    failing = failed(result)
    assert checks <= set(failing), (name, sorted(failing))
    texts = "\n".join(str(f) for c in result.checks if c.id in checks for f in c.findings)
    assert any(all(word in line for word in words) for line in texts.splitlines()), texts
    assert not {"manifests-valid", "applied-matches-submission"} & set(failing), sorted(failing)


def test_an_ingress_to_the_wrong_port_fails_statically_and_live_with_the_cause(cluster, publishing, tmp_path):
    namespace = publishing
    docs = reference()
    backend = next(d for d in docs if d["kind"] == "Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    backend["service"]["port"] = {"number": 80}
    submission = deploy(cluster, namespace, docs, tmp_path=tmp_path)
    result = grade_live("checkpoint-4", namespace, submission, cluster=cluster)
    failing = failed(result)
    assert {"web-published", "published-live"} <= set(failing), sorted(failing)
    assert "Service/web has no port 80" in failing["web-published"]
    assert "expected allowed" in failing["published-live"], failing["published-live"]
    assert "connectivity-live" not in failing  # the policies are right: only the publication is wrong


def test_an_httproute_instead_of_the_ingress_applies_and_is_graded_statically(cluster, namespace, tmp_path):
    """`up` installs the Gateway API's CRDs, so an HTTPRoute and its Gateway apply; no
    controller here serves them, so publishing is graded from the YAML and the live
    publication check says why it did not run."""
    submission = deploy(cluster, namespace, with_route(), tmp_path=tmp_path)
    result = grade_live("checkpoint-4", namespace, submission, cluster=cluster)
    assert failed(result) == {}, failed(result)
    skipped = {c.id: c.skipped for c in result.checks if c.skipped}
    assert "no Gateway API implementation" in skipped["published-live"]
    applied = cluster.custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", namespace, "httproutes",
                                                          "web")
    assert applied["spec"]["hostnames"] == ["firstapp.localhost"]
