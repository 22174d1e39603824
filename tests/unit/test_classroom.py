"""Class mode's pure parts: the roster, node port assignment, the objects a class is made
of, the gradebook's formats and snapshots read back as they were written."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from course.errors import UnusableInput
from course.place import Place, class_namespace, learner_of, solo_namespace
from course.traffic import Failure
from firstapp.classroom import roster, tenancy
from grader import gradebook, schema, snapshot
from grader.live import Endpoint, LiveState, Pod, Reach, Route
from grader.loading import Manifest, Source
from grader.run import grade_static


def test_roster_takes_good_lines_and_names_each_bad_one():
    text = ("learner id,name,email\nalice,Alice,alice@example.org\n\nalice,Alice Two,a2@example.org\n"
            "Bob!,Bob,bob@example.org\ncarol,Carol\ndave,Dave,not-an-email\nerin,\"Erin, E.\",erin@example.org\n")
    learners, problems = roster.parse(text, "roster.csv")
    assert [learner.id for learner in learners] == ["alice", "erin"]
    assert learners[1].name == "Erin, E."
    assert problems == [
        "roster.csv line 3: empty line, skipped",
        "roster.csv line 4: learner id 'alice' is already on line 2; each learner needs an id of their own",
        "roster.csv line 5: learner id 'Bob!': expected 1-20 lowercase letters, digits or inner hyphens",
        "roster.csv line 6 ('carol'): expected 3 columns (learner id, name, email), found 2",
        "roster.csv line 7 (dave): email 'not-an-email' has no @",
    ]


def test_roster_round_trips_through_csv():
    learners, _ = roster.parse("a1,Ann,a@example.org\nb-2,Ben,b@example.org\n", "r")
    assert roster.parse(roster.to_csv(learners), "r") == (learners, [])


@pytest.mark.parametrize("learner", ["a", "abc-12", "x" * 20])
def test_learner_ids_make_dns_label_namespaces(learner):
    assert len(class_namespace(learner, "checkpoint-3")) <= 63


@pytest.mark.parametrize("learner", ["", "-a", "a-", "A", "a_b", "x" * 21, "a b", "é"])
def test_bad_learner_ids_are_refused(learner):
    _, problems = roster.parse(f"{learner},Name,n@example.org\n", "r")
    assert len(problems) == 1


def test_ports_are_stable_skip_taken_ones_and_never_30080():
    recorded = {"alice": 30100}
    ports = tenancy.assign_ports(["alice", "bob", "carol"], recorded, taken={30101, 30080})
    assert ports == {"alice": 30100, "bob": 30102, "carol": 30103}
    again = tenancy.assign_ports(["carol", "bob", "alice", "dan"], {**ports}, taken=set(ports.values()))
    assert {k: again[k] for k in ports} == ports and again["dan"] == 30101  # free again: nothing holds it now


def test_the_class_objects_are_valid_kubernetes():
    objects = [*tenancy.class_wide(), *tenancy.namespaces("alice", 30100, "192.0.2.2"), *tenancy.account("alice")]
    manifests = [Manifest(body, Source("tenancy", number)) for number, body in enumerate(objects, start=1)]
    assert schema.validate(manifests) == []


def test_a_learner_is_bound_to_their_own_namespaces_only():
    account = tenancy.account("alice")
    bindings = [o for o in account if o["kind"] == "RoleBinding"]
    assert {b["metadata"]["namespace"] for b in bindings} == {class_namespace("alice", w) for w in
                                                             ("lesson-1", "lesson-2", "lesson-3", "checkpoint-1",
                                                              "checkpoint-2", "checkpoint-3", "checkpoint-4")}
    cluster_role = next(o for o in account if o["kind"] == "ClusterRole")
    assert cluster_role["rules"] == [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"],
                                      "resourceNames": [b["metadata"]["namespace"] for b in bindings]}]
    work = next(o for o in tenancy.class_wide() if o["kind"] == "ClusterRole")
    verbs = {verb for rule in work["rules"] for verb in rule["verbs"]}
    resources = {r for rule in work["rules"] for r in rule["resources"]}
    assert "escalate" not in verbs and "bind" not in verbs and "impersonate" not in verbs
    assert not resources & {"secrets", "roles", "rolebindings", "namespaces", "nodes"}


def test_identity_from_user_names():
    assert learner_of("system:serviceaccount:firstapp-class:learner-alice") == "alice"
    assert learner_of("system:serviceaccount:default:learner-alice") is None
    assert learner_of("firstapp-admin") is None
    assert solo_namespace("checkpoint-2") == "lab-checkpoint-2" and solo_namespace("lesson-3") == "lesson-3"
    assert Place("alice-checkpoint-3", 30100, "alice", "192.0.2.2").url == "http://192.0.2.2:30100"


def _reference_result(node_port=30080):
    from course.paths import course_home

    text = (course_home() / "k8s/reference/checkpoint-3.yaml").read_text().replace("30080", str(node_port))
    from grader.loading import load_text

    return grade_static("checkpoint-3", load_text(text, "reference"), node_port=node_port)


def test_gradescope_results_have_its_shape_and_hide_the_hidden_check():
    results = gradebook.gradescope(_reference_result())
    assert set(results) >= {"score", "max_score", "tests"} and results["score"] == results["max_score"] == 13
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert len(hidden) == 1 and hidden[0]["output"] == ""
    assert "13" not in results["output"]  # the summary a learner sees gives no total


def test_the_learners_node_port_is_what_web_node_port_expects():
    assert _reference_result(30117).score == 13
    wrong = grade_static("checkpoint-3", _reference_manifests(), node_port=30117)
    check = next(c for c in wrong.checks if c.id == "web-node-port")
    assert check.score == 0 and "expected 30117, found 30080" in check.hint


def _reference_manifests():
    from course.paths import course_home

    return str(course_home() / "k8s/reference/checkpoint-3.yaml")


def test_weights_reweigh_and_bad_weights_are_named():
    weights = gradebook.weights_from_toml('[checkpoint-3]\nweb-service-type = 3\nport-names = 0\n', "w.toml")
    result = gradebook.reweighed(_reference_result(), weights)
    assert result.max_score == 13 + 2 - 1 and result.score == result.max_score
    for text, words in [("[checkpoint-9]\nx = 1", "[checkpoint-9] is not a lab"),
                        ("[checkpoint-3]\nno-such = 1", "no-such: no such check"),
                        ("[checkpoint-3]\nport-names = -1", "expected whole points from 0 to 100, found -1"),
                        ("[checkpoint-3]\nport-names = true", "found True"),
                        ("[checkpoint-3\n", "not TOML")]:
        with pytest.raises(UnusableInput, match=words.replace("[", r"\[").replace("]", r"\]")):
            gradebook.weights_from_toml(text, "w.toml")


def test_class_csv_is_keyed_by_learner_and_keeps_a_row_for_who_could_not_be_graded():
    rows = [gradebook.Row("alice", "Alice, A.", "alice@example.org", _reference_result(), collected_at="t"),
            gradebook.Row("bob", "Bob", "bob@example.org", None, error="namespace bob-checkpoint-3 does not exist")]
    table = list(csv.DictReader(io.StringIO(gradebook.class_csv("checkpoint-3", rows))))
    assert [r["learner"] for r in table] == ["alice", "bob"]
    assert table[0]["name"] == "Alice, A." and table[0]["score"] == "13" and table[0]["web-service-type"] == "1"
    assert table[1]["score"] == "0" and "does not exist" in table[1]["error"]


def test_feedback_shows_visible_checks_only():
    feedback = gradebook.feedback_markdown("alice", _reference_result())
    assert "no-extra-exposure" not in feedback and "1 hidden check" in feedback and "web-node-port" in feedback


def _live() -> LiveState:
    live = LiveState("alice-checkpoint-3", node_port=30100, node_address="192.0.2.2")
    live.objects["Service/web"] = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "web", "managedFields": [{"time": "2026-11-29T10:00:00Z"}, {"time": "2026-11-29T11:00:00Z"}]},
        "spec": {"type": "NodePort"}, "status": {"loadBalancer": {}}}
    live.pods.append(Pod("web-1", {"app": "web"}, "10.0.0.5", True, "Running", "ReplicaSet", ("firstapp/web:1.0",),
                         (True,), 0))
    live.endpoints["web"] = [Endpoint("10.0.0.5", True, "web-1")]
    live.node_images = {"firstapp/web:1.0"}
    live.routes.append(Route("host", "http://192.0.2.2:30100/whoami", "web", Reach.ALLOWED, Reach.BLOCKED,
                             "refused", Failure.REFUSED))
    return live


def test_a_snapshot_reads_back_as_it_was_written(tmp_path):
    live = _live()
    at = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    snapshot.save(tmp_path, live, "checkpoint-3", "alice", at)
    manifests, back, collected = snapshot.load(tmp_path)
    assert [m.body for m in manifests] == [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                            "spec": {"type": "NodePort"}}]
    assert back.routes == live.routes and back.pods == live.pods and back.endpoints == live.endpoints
    assert (back.node_port, back.node_address, back.node_images) == (30100, "192.0.2.2", {"firstapp/web:1.0"})
    assert back.objects["Service/web"]["status"] == {"loadBalancer": {}}
    assert "managedFields" not in json.dumps(back.objects)
    assert collected["last_change"] == "2026-11-29T11:00:00Z" and collected["collected_at"].startswith("2026-11-29T12:00")


def test_a_damaged_snapshot_is_named(tmp_path):
    snapshot.save(tmp_path, _live(), "checkpoint-3", "alice", datetime.now(UTC))
    (tmp_path / snapshot.STATE).write_text('{"namespace": 1}')
    with pytest.raises(UnusableInput, match="is damaged"):
        snapshot.load(tmp_path)
    (tmp_path / snapshot.STATE).unlink()
    with pytest.raises(UnusableInput, match="cannot read"):
        snapshot.load(tmp_path)


def test_the_kind_class_cluster_maps_every_learner_port_it_promises():
    import yaml

    from course.paths import course_home

    config = yaml.safe_load((course_home() / "k8s/kind/class-cluster.yaml").read_text())
    mapped = {m["hostPort"] for m in config["nodes"][0]["extraPortMappings"]}
    promised = tenancy.assign_ports([f"l{i}" for i in range(40)], {}, taken=set()).values()
    assert set(promised) <= mapped and 30080 in mapped
