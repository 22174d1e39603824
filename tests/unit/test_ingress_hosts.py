"""A host per learner for checkpoint 4: the naming (course/place.py), the publication
rules and the live plan graded for the host of the place being graded, that host kept
in a class's snapshot, and the lab telling a learner theirs; all without a cluster."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from course.place import INGRESS_ADDRESS, LEARNER_LABEL, SOLO_HOST, Place, ingress_host, namespace_host
from course.traffic import ProbeResult
from grader import observe, routing, snapshot
from grader import route_rules as rules
from grader.live import LiveState, Reach
from grader.run import grade_static
from tests.checkpoint4 import hosted, reference, submission_of, with_route

ALICE = "alice.firstapp.localhost"


# ---- naming -------------------------------------------------------------------------------


def test_the_solo_learner_publishes_firstapp_localhost_and_a_class_learner_their_own_name_under_it():
    assert SOLO_HOST == rules.HOST == "firstapp.localhost"
    assert ingress_host(None) == SOLO_HOST and ingress_host("alice") == ALICE
    assert Place("lab-checkpoint-4", 30080).host == SOLO_HOST
    assert Place("alice-checkpoint-4", 30100, "alice", "192.0.2.2").host == ALICE
    assert ingress_host("a-1").endswith(".localhost") and ingress_host("bob") != ingress_host("alice")


def test_a_namespaces_host_follows_its_learner_label():
    assert namespace_host({LEARNER_LABEL: "alice", "course": "firstapp"}) == ALICE
    assert namespace_host({"course": "firstapp"}) == namespace_host({}) == namespace_host(None) == SOLO_HOST
    # a label no learner id could be (class create never writes one) does not name a host
    assert namespace_host({LEARNER_LABEL: "Not.A_Host"}) == SOLO_HOST


# ---- the publication rules, for a class learner's host --------------------------------------------


def test_a_class_learners_reference_with_their_host_passes_and_the_solo_host_does_not():
    assert rules.web_published(submission_of(hosted(reference(), ALICE)), ALICE) == []
    assert rules.ingress_rules(submission_of(hosted(reference(), ALICE)), ALICE) == []
    assert rules.web_published(submission_of(reference())) == []  # the solo learner's, by default
    assert rules.web_published(submission_of(hosted(reference(), ALICE))) != []  # alice's host is not the solo one


def test_a_class_learners_ingress_for_firstapp_localhost_names_their_own_host():
    findings = rules.ingress_host(submission_of(reference()), ALICE)
    assert len(findings) == 1
    finding = findings[0]
    assert (finding.object, finding.path, finding.expected, finding.found) == (
        "Ingress/web", "spec.rules[0].host", ALICE, "firstapp.localhost")
    assert f"expected {ALICE}, found firstapp.localhost" in str(finding)
    assert "your own host in this class" in finding.problem
    published = "\n".join(map(str, rules.web_published(submission_of(reference()), ALICE)))
    assert f"expected {ALICE}, found firstapp.localhost" in published
    assert f"no path / for host {ALICE}" in published  # nothing routes alice's host to web


def test_a_class_learners_httproute_names_their_own_host():
    findings = rules.httproute_rules(submission_of(with_route()), ALICE)
    assert [(f.path, f.expected, f.found) for f in findings] == [("spec.hostnames", [ALICE], ["firstapp.localhost"])]
    assert rules.httproute_rules(submission_of(hosted(with_route(), ALICE)), ALICE) == []


def test_static_grading_for_a_class_learners_host_says_that_host_in_titles_hints_and_findings():
    right = grade_static("checkpoint-4", submission_of(hosted(reference(), ALICE)).manifests, host=ALICE)
    assert right.score == right.max_score, [c.hint for c in right.checks if not c.passed]
    wrong = grade_static("checkpoint-4", submission_of(reference()).manifests, host=ALICE)
    check = next(c for c in wrong.checks if c.id == "web-published")
    assert not check.passed and check.title == f"An Ingress (or HTTPRoute) publishes web at http://{ALICE}/"
    assert f"host {ALICE}, path /" in check.general_hint and "{host}" not in check.general_hint
    assert f"expected {ALICE}, found firstapp.localhost" in check.hint
    solo = grade_static("checkpoint-4", submission_of(reference()).manifests)
    assert next(c for c in solo.checks if c.id == "web-published").title.endswith("http://firstapp.localhost/")
    assert all("{host}" not in c.title and "{host}" not in c.general_hint for c in solo.checks)


# ---- the live check: the request through the controller, with the learner's Host ------------------


def test_the_publication_plan_asks_the_controller_for_the_learners_host():
    live = LiveState("alice-checkpoint-4", node_port=30100, node_address="192.0.2.2", host=ALICE)
    through = [p for p in routing.publication_plan(live) if p.route.source == routing.VIA_INGRESS]
    assert [(p.address, p.route.target) for p in through] == [
        (f"http://{ALICE}/whoami", f"http://{ALICE}/ (port 80 of {INGRESS_ADDRESS})")]
    solo = routing.publication_plan(LiveState("lab-checkpoint-4"))
    assert solo[0].address == "http://firstapp.localhost/whoami"


def test_the_request_goes_to_the_controller_with_the_learners_host_name(monkeypatch):
    """The name is connected to at the controller's address (loopback, where *.localhost
    leads), not the node address a class's node ports answer at; the Host header keeps it."""
    sent = []

    def from_host(specs, timeout, attempts, resolve):
        sent.append((specs, resolve))
        return [ProbeResult(ok=True, status=200, body="{}") for _ in specs]

    monkeypatch.setattr(observe, "from_host", from_host)
    live = LiveState("alice-checkpoint-4", node_port=30100, node_address="192.0.2.2", host=ALICE)
    plan = [p for p in routing.publication_plan(live) if p.kind]
    observe._from_host(plan, live, timeout=1.0)
    assert sent == [([("http", f"http://{ALICE}/whoami")], {ALICE: INGRESS_ADDRESS})]


def test_a_failed_publication_is_diagnosed_with_the_learners_host():
    live = LiveState("alice-checkpoint-4", host=ALICE)
    route = routing.Route(routing.VIA_INGRESS, f"http://{ALICE}/", "web", Reach.ALLOWED, Reach.WRONG_TIER,
                          detail="HTTP 404")
    live.objects["Service/web"] = {"kind": "Service", "metadata": {"name": "web"}, "spec": {}}
    assert routing.diagnose(route, live) == f"no Ingress in namespace alice-checkpoint-4: nothing tells the " \
                                            f"controller to route {ALICE}"
    live.objects["Ingress/web"] = {"kind": "Ingress", "metadata": {"name": "web"}}
    assert f"no route for {ALICE}" in routing.diagnose(route, live)
    route.observed = Reach.OTHER_NAMESPACE
    assert f"another namespace's Ingress claims {ALICE}" in routing.diagnose(route, live)


# ---- a class's snapshot keeps the host --------------------------------------------------------------------


def test_a_snapshot_keeps_the_learners_host_and_an_older_one_is_the_solo_hosts(tmp_path):
    live = LiveState("alice-checkpoint-4", node_port=30100, node_address="192.0.2.2", host=ALICE)
    snapshot.save(tmp_path, live, "checkpoint-4", "alice", datetime(2026, 11, 29, tzinfo=UTC))
    assert snapshot.load(tmp_path)[1].host == ALICE
    state = json.loads((tmp_path / snapshot.STATE).read_text())
    del state["host"]  # collected before a host per learner
    (tmp_path / snapshot.STATE).write_text(json.dumps(state))
    assert snapshot.load(tmp_path)[1].host == SOLO_HOST


def test_a_class_learner_who_may_not_read_gateway_api_objects_is_still_graded():
    """A class learner's role grants no Gateway API rights; their own grading of
    checkpoint 4 reads the namespace's HTTPRoutes and Gateways as none, not an error."""
    import contextlib
    from types import SimpleNamespace

    from course.errors import Forbidden

    def refuse(group, version, namespace, plural):
        raise Forbidden(f"list {plural}", 403, "forbidden")

    cluster = SimpleNamespace(errors=lambda *_: contextlib.nullcontext(),
                              custom=SimpleNamespace(list_namespaced_custom_object=refuse))
    live = LiveState("alice-checkpoint-4", host=ALICE)
    observe._collect_gateway_api(cluster, live)
    assert live.objects == {}


# ---- the lab tells the learner their host -------------------------------------------------------


def test_the_labs_reference_carries_the_learners_host():
    from firstapp import lab as lab_module

    def hosts(text: str) -> list[str]:
        return [rule["host"] for o in yaml.safe_load_all(text) if o and o["kind"] == "Ingress"
                for rule in o["spec"]["rules"]]

    assert hosts(lab_module.reference_text("checkpoint-4")) == [SOLO_HOST]
    assert hosts(lab_module.reference_text("checkpoint-4", host=ALICE)) == [ALICE]
    answer = submission_of([o for o in yaml.safe_load_all(lab_module.reference_text("checkpoint-4", host=ALICE)) if o])
    assert grade_static("checkpoint-4", answer.manifests, host=ALICE).passed


@pytest.mark.parametrize("place, words", [
    (Place("lab-checkpoint-4", 30080), ["host is firstapp.localhost:", "http://firstapp.localhost/"]),
    (Place("alice-checkpoint-4", 30100, "alice", "192.0.2.2"),
     [f"host is {ALICE} (each learner", "not firstapp.localhost", f"http://{ALICE}/ on the cluster's machine"]),
])
def test_the_lab_says_the_learners_host(place, words):
    from course.labs import LABS
    from firstapp import lab as lab_module

    lab = lab_module.Lab.__new__(lab_module.Lab)
    lab.checkpoint, lab.lab, lab.place = "checkpoint-4", LABS["checkpoint-4"], place
    assert lab.host == place.host
    said = lab.publishing()
    assert all(word in said for word in words), said


# ---- lessons in a class -------------------------------------------------------------------

def test_a_lessons_ingress_for_firstapp_localhost_claims_the_class_learners_host():
    from course.place import placed_hosts
    from firstapp.lockdown import publication

    objects = publication()
    placed = placed_hosts(objects, ALICE)
    assert [rule["host"] for o in placed for rule in o["spec"]["rules"]] == [ALICE, ALICE]
    assert [rule["host"] for o in objects for rule in o["spec"]["rules"]] == [SOLO_HOST, SOLO_HOST]  # a copy
    assert placed_hosts(objects, SOLO_HOST) is objects


def test_only_rules_for_firstapp_localhost_are_rehosted():
    from course.place import placed_hosts

    other = {"kind": "Ingress", "metadata": {"name": "x"},
             "spec": {"rules": [{"host": "example.test"}, {"http": {}}, "garbage"]}}
    service = {"kind": "Service", "metadata": {"name": "web"}, "spec": {"rules": [{"host": SOLO_HOST}]}}
    assert placed_hosts([other, service], ALICE) == [other, service]


def test_the_class_refuses_an_ingress_for_another_host_every_host_or_a_default_backend():
    """The admission policy `firstapp class create` installs: bound to every learner
    namespace, on Ingresses, with the learner's own host computed from the namespace's
    learner label (its CEL runs in the API server: tests/cluster/test_class_mode.py)."""
    from firstapp.classroom import tenancy

    policy, binding = [o for o in tenancy.class_wide() if o["metadata"]["name"] == tenancy.HOST_POLICY]
    assert policy["spec"]["matchConstraints"]["resourceRules"][0]["resources"] == ["ingresses"]
    rules = " ".join(v["expression"] for v in policy["spec"]["validations"])
    assert f"namespaceObject.metadata.labels['{LEARNER_LABEL}'] + '.{SOLO_HOST}'" in rules
    assert "defaultBackend" in rules and "has(r.host)" in rules
    assert binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"] == [
        {"key": LEARNER_LABEL, "operator": "Exists"}]
