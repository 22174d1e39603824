"""Class mode on the real cluster, as an instructor runs it: `firstapp class create`
from a roster, three learners working with their own kubeconfigs (a right answer, a
wrong one, none), `collect`, `grade`, and isolation enforced by the cluster itself
(RBAC and the ValidatingAdmissionPolicy), proved with the learners' own credentials;
and two learners' checkpoint 4 published side by side through the one ingress
controller, each under their own host.

The class is made once for the module (its namespaces are `<learner>-<workspace>`,
learner ids unique to this run) and removed with `firstapp class delete`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from course.cluster import Cluster
from course.errors import Forbidden, Invalid, NotFound
from course.place import INGRESS_ADDRESS, class_namespace, ingress_host, locate
from course.probe import PROBE_LABEL
from tests.checkpoint4 import hosted, reference
from tests.conftest import REFERENCE_CHECKPOINT_3

pytestmark = [pytest.mark.cluster, pytest.mark.classroom]
RUN = uuid.uuid4().hex[:4]
RIGHT, WRONG, NONE = f"right{RUN}", f"wrong{RUN}", f"none{RUN}"
CONSOLE = Path(sys.executable).with_name("firstapp")


def firstapp(*args: str, kubeconfig: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"KUBECONFIG": str(kubeconfig)} if kubeconfig else {})}
    return subprocess.run([str(CONSOLE), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def as_learner(folder: Path, learner: str) -> Cluster:
    os.environ["KUBECONFIG"] = str(folder / "kubeconfigs" / f"{learner}.kubeconfig")
    try:
        return Cluster.connect()
    finally:
        del os.environ["KUBECONFIG"]


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A class of three learners (and three bad roster lines); removed afterwards."""
    folder = tmp_path_factory.mktemp("class")
    roster = folder.parent / f"roster-{RUN}.csv"
    roster.write_text(f"learner id,name,email\n{RIGHT},Rita Right,rita@example.org\n{WRONG},Walt Wrong,"
                      f"walt@example.org\n\n{NONE},Nora None,nora@example.org\n{RIGHT},Again,a@example.org\n"
                      "Bad Id,Bad,bad@example.org\n")
    created = firstapp("class", "--class-dir", str(folder), "create", "--roster", str(roster))
    yield folder, created
    deleted = firstapp("class", "--class-dir", str(folder), "delete")
    assert deleted.returncode == 0, deleted.stderr


def ports(folder: Path) -> dict[str, int]:
    """Each learner's node port, as recorded on their namespace."""
    cluster = Cluster.connect()
    return {learner: int(cluster.namespace_annotations(class_namespace(learner, "lesson-1"))["firstapp.course/node-port"])
            for learner in (RIGHT, WRONG, NONE)}


def reference_with_port(port: int) -> list[dict]:
    return [d for d in yaml.safe_load_all(REFERENCE_CHECKPOINT_3.read_text().replace("30080", str(port))) if d]


def test_create_makes_the_good_learners_and_names_each_bad_line(klass):
    folder, created = klass
    assert created.returncode == 1  # some roster lines were refused; the class still went through
    assert "line 4: empty line" in created.stderr and f"learner id '{RIGHT}' is already on line 2" in created.stderr
    assert "'Bad Id'" in created.stderr and "Traceback" not in created.stderr
    for learner in (RIGHT, WRONG, NONE):
        assert (folder / "kubeconfigs" / f"{learner}.kubeconfig").stat().st_mode & 0o077 == 0
    assert len(set(ports(folder).values())) == 3 and 30080 not in ports(folder).values()
    roster = list(csv.reader((folder / "roster.csv").open()))
    assert sorted(row[0] for row in roster[1:]) == sorted([RIGHT, WRONG, NONE])


def test_create_again_keeps_every_node_port(klass):
    folder, _ = klass
    before = ports(folder)
    again = firstapp("class", "--class-dir", str(folder), "create", "--roster", str(folder / "roster.csv"))
    assert again.returncode == 0, again.stderr
    assert ports(folder) == before
    assert as_learner(folder, RIGHT).whoami().endswith(f"learner-{RIGHT}")  # the fresh token works


def test_a_learner_works_in_their_own_namespaces(klass):
    folder, _ = klass
    learner = as_learner(folder, RIGHT)
    place = locate(learner, "checkpoint-3")
    assert (place.namespace, place.learner, place.node_port) == (class_namespace(RIGHT, "checkpoint-3"), RIGHT,
                                                                 ports(folder)[RIGHT])
    learner.apply(reference_with_port(place.node_port), place.namespace)
    learner.wait_available(place.namespace, ["Deployment/web", "Deployment/api", "StatefulSet/db"])


def test_learners_cannot_touch_each_other_or_the_cluster(klass):
    folder, _ = klass
    right, wrong = as_learner(folder, RIGHT), as_learner(folder, WRONG)
    theirs = class_namespace(RIGHT, "checkpoint-3")
    for attempt in (lambda: wrong.core.list_namespaced_pod(theirs), lambda: wrong.core.read_namespaced_service("web", theirs),
                    lambda: wrong.core.delete_namespaced_service("web", theirs),
                    lambda: wrong.core.patch_namespaced_service("web", theirs, {"spec": {"type": "ClusterIP"}}),
                    lambda: wrong.core.list_namespace(), lambda: wrong.core.list_service_for_all_namespaces(),
                    lambda: wrong.core.create_namespace({"metadata": {"name": f"mine-{RUN}"}}),
                    lambda: wrong.core.read_namespaced_secret("x", class_namespace(WRONG, "checkpoint-3")),
                    lambda: wrong.core.patch_namespace(class_namespace(WRONG, "checkpoint-3"),
                                                       {"metadata": {"annotations": {"firstapp.course/node-port": "30080"}}})):
        with pytest.raises(Forbidden), wrong.errors("try what a learner may not"):
            attempt()
    own = class_namespace(WRONG, "checkpoint-3")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "steal"},
               "spec": {"type": "NodePort", "selector": {"app": "web"},
                        "ports": [{"port": 8080, "nodePort": ports(folder)[RIGHT]}]}}
    with pytest.raises(Invalid, match="already allocated"):  # the port another learner's web holds
        wrong.apply([service], own)
    free_but_not_mine = {**service, "spec": {**service["spec"], "ports": [{"port": 8080, "nodePort": ports(folder)[NONE]}]}}
    for body, words in ((free_but_not_mine, f"use your own node port, {ports(folder)[WRONG]}"),
                        ({**service, "spec": {**service["spec"], "ports": [{"port": 8080}]}}, "use your own node port"),
                        ({**service, "spec": {**service["spec"], "type": "LoadBalancer", "ports": [{"port": 8080}]}},
                         "LoadBalancer"),
                        ({**service, "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080}],
                                              "externalIPs": ["192.0.2.99"]}}, "externalIPs")):
        with pytest.raises(Forbidden, match=words):
            wrong.apply([body], own)
    with pytest.raises(NotFound), wrong.errors("read"):
        wrong.core.read_namespaced_service("steal", own)  # nothing half-applied
    assert right.core.read_namespaced_service("web", theirs).spec.type == "NodePort"  # untouched


def test_collect_then_grade_a_right_a_wrong_and_no_answer(klass):
    folder, _ = klass
    wrong = as_learner(folder, WRONG)
    docs = reference_with_port(ports(folder)[WRONG])
    api = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == "api")
    api["spec"]["selector"] = {"app": "web"}  # the classic mistake: the api Service selects web's pods
    wrong.apply(docs, class_namespace(WRONG, "checkpoint-3"))
    wrong.wait_available(class_namespace(WRONG, "checkpoint-3"), ["Deployment/web", "Deployment/api", "StatefulSet/db"])

    collected = firstapp("class", "--class-dir", str(folder), "collect", "checkpoint-3")
    assert collected.returncode == 0, collected.stderr
    graded = firstapp("class", "--class-dir", str(folder), "grade", "checkpoint-3")
    assert graded.returncode == 0, graded.stderr
    book = folder / "gradebook" / "checkpoint-3"
    rows = {row["learner"]: row for row in csv.DictReader((book / "class.csv").open())}
    assert rows[RIGHT]["score"] == rows[RIGHT]["max_score"] and rows[RIGHT]["name"] == "Rita Right"
    assert rows[WRONG]["api-service-selector"] == "0" and rows[WRONG]["web-service-selector"] == "1"
    assert 0 < int(rows[WRONG]["score"]) < int(rows[WRONG]["max_score"])
    assert rows[NONE]["score"] == "0"  # an empty namespace scores nothing
    results = json.loads((book / "results" / RIGHT / "results.json").read_text())
    assert results["score"] == results["max_score"] and {"name", "score", "max_score", "output", "visibility"} <= set(
        results["tests"][0])
    feedback = (book / "feedback" / f"{WRONG}.md").read_text()
    assert "api-service-selector" in feedback and "no-extra-exposure" not in feedback

    # The snapshot is the grade: regrading gives the same answer with the namespace gone.
    before = (book / "class.csv").read_text()
    Cluster.connect().delete_namespace(class_namespace(WRONG, "checkpoint-3"))
    again = firstapp("class", "--class-dir", str(folder), "grade", "checkpoint-3", "--weights", str(_weights(folder)))
    assert again.returncode == 0, again.stderr
    reweighed = {row["learner"]: row for row in csv.DictReader((book / "class.csv").open())}
    assert reweighed[RIGHT]["web-service-type"] == "5"
    assert [row["api-service-selector"] for row in reweighed.values()] == [
        row["api-service-selector"] for row in csv.DictReader(before.splitlines())]

    # A learner whose namespace is gone is named; the rest of the class is collected.
    late = firstapp("class", "--class-dir", str(folder), "collect", "checkpoint-3")
    assert late.returncode == 1 and f"learner {WRONG}: namespace {class_namespace(WRONG, 'checkpoint-3')} does not exist" \
        in late.stderr and "Traceback" not in late.stderr
    assert f"{RIGHT}: collected" in late.stdout and f"{NONE}: collected" in late.stdout

    # Work changed after a deadline is marked late.
    marked = firstapp("class", "--class-dir", str(folder), "grade", "checkpoint-3", "--deadline", "2020-01-01T00:00")
    rows = {row["learner"]: row for row in csv.DictReader((book / "class.csv").open())}
    assert rows[RIGHT]["late"] == "yes" and rows[NONE]["late"] == "" and marked.returncode == 0


def _weights(folder: Path) -> Path:
    path = folder / "weights-test.toml"
    path.write_text("[checkpoint-3]\nweb-service-type = 5\n")
    return path


def test_no_probe_pod_is_left_behind(klass):
    cluster = Cluster.connect()
    for learner in (RIGHT, NONE):
        pods = cluster.core.list_namespaced_pod(class_namespace(learner, "checkpoint-3"),
                                                label_selector=PROBE_LABEL).items
        assert [p.metadata.name for p in pods if p.metadata.deletion_timestamp is None] == []


def test_a_learner_grades_their_own_lab_from_their_kubeconfig(klass):
    folder, _ = klass
    run = firstapp("grade", "checkpoint-3", "--format", "json", kubeconfig=folder / "kubeconfigs" / f"{RIGHT}.kubeconfig")
    report = json.loads(run.stdout)
    assert run.returncode == 0, run.stderr + run.stdout
    assert report["namespace"] == class_namespace(RIGHT, "checkpoint-3")
    outside = [r for r in report["routes"] if r["from"] == "host" and r["tier"] == "web"]
    assert outside and all(f":{ports(folder)[RIGHT]}/" in r["to"] and "localhost" not in r["to"] for r in outside)


def test_a_learner_account_cannot_run_the_class(klass):
    folder, _ = klass
    run = firstapp("class", "--class-dir", str(folder / "elsewhere"), "create", "--roster", str(folder / "roster.csv"),
                   kubeconfig=folder / "kubeconfigs" / f"{NONE}.kubeconfig")
    assert run.returncode == 2 and "forbidden" in run.stderr.lower() and "Traceback" not in run.stderr


def test_the_lab_helpers_follow_a_learners_identity(klass):
    """A learner's notebook frees their node port only among their own namespaces."""
    folder, _ = klass
    learner = as_learner(folder, RIGHT)
    port = ports(folder)[RIGHT]
    lesson = class_namespace(RIGHT, "lesson-3")
    assert learner.release_node_port(port, keep_namespace=lesson) == [f"{class_namespace(RIGHT, 'checkpoint-3')}/web"]
    with pytest.raises(Forbidden), learner.errors("list every namespace's Services"):
        learner.core.list_service_for_all_namespaces()


def test_a_learners_lab_notebook_works_in_their_place_with_their_account(klass, tmp_path, capsys, monkeypatch):
    """The lab helpers the notebook's buttons call, run with a learner's own kubeconfig:
    their namespace, their node port, the given workloads applied with their rights, and
    the grade of what they applied, routing included."""
    from firstapp.lab import Lab, reference_text

    monkeypatch.delenv("FIRSTAPP_LAB_ANSWERS", raising=False)
    folder, _ = klass
    port = ports(folder)[NONE]
    lab = Lab("checkpoint-3", as_learner(folder, NONE), file=tmp_path / "services.yaml")
    assert lab.namespace == class_namespace(NONE, "checkpoint-3")
    assert f"your web answers at http://{_node_address()}:{port}" in capsys.readouterr().out
    attempt = lab.apply(reference_text("checkpoint-3", node_port=port))
    result = attempt.result
    assert result is not None, repr(attempt)
    assert result.namespace == lab.namespace and all(c.passed for c in result.checks), repr(attempt)
    assert any(r.target.endswith(f":{port}/whoami") and r.source == "host" and r.matches for r in result.routes)


def test_two_learners_publish_checkpoint_4_at_once_each_under_their_own_host(klass, tmp_path, capsys, monkeypatch):
    """The controller routes a host to one namespace only (the oldest Ingress claiming
    it), so each learner's Ingress claims <learner>.firstapp.localhost: two learners'
    checkpoint 4, applied with their own accounts, are routed side by side. Each grades
    their own with their kubeconfig, both at once, and the instructor collects and grades
    the class: published-live passes for both, each answered by a web pod of their own."""
    from firstapp.lab import Lab

    monkeypatch.delenv("FIRSTAPP_LAB_ANSWERS", raising=False)
    folder, _ = klass
    learners = (RIGHT, NONE)
    spaces = {learner: class_namespace(learner, "checkpoint-4") for learner in learners}
    hosts = {learner: f"{learner}.firstapp.localhost" for learner in learners}
    admin = Cluster.connect()
    try:
        for learner in learners:
            account = as_learner(folder, learner)
            lab = Lab("checkpoint-4", account, file=tmp_path / f"{learner}.yaml")
            assert lab.namespace == spaces[learner] and lab.host == ingress_host(learner) == hosts[learner]
            assert f"your Ingress's host is {hosts[learner]}" in capsys.readouterr().out
            account.apply(hosted(reference(), hosts[learner]), spaces[learner])
        for learner in learners:
            admin.wait_available(spaces[learner], ["Deployment/web", "Deployment/api", "StatefulSet/db"], timeout=180)

        def own_grade(learner: str) -> subprocess.CompletedProcess:
            return firstapp("grade", "checkpoint-4", "--format", "json",
                            kubeconfig=folder / "kubeconfigs" / f"{learner}.kubeconfig")

        with ThreadPoolExecutor(max_workers=2) as pool:  # both at once, each with their own account
            runs = dict(zip(learners, pool.map(own_grade, learners)))
        for learner, run in runs.items():
            assert run.returncode == 0, run.stderr + run.stdout
            report = json.loads(run.stdout)
            assert report["namespace"] == spaces[learner] and report["score"] == report["max_score"], \
                [c for c in report["checks"] if not c["passed"]]
            checks = {c["id"]: c for c in report["checks"]}
            assert checks["published-live"]["passed"] and checks["published-live"]["max_score"] == 1
            assert hosts[learner] in checks["published-live"]["title"] and hosts[learner] in checks["web-published"]["title"]
            through = [r for r in report["routes"] if r["from"].startswith("host, through")]
            assert [(r["to"], r["observed"]) for r in through] == [
                (f"http://{hosts[learner]}/ (port 80 of {INGRESS_ADDRESS})", "allowed")]
            web_pods = {p.metadata.name for p in admin.core.list_namespaced_pod(spaces[learner], label_selector="app=web").items}
            assert any(f"pod {name} answered" == through[0]["detail"] for name in web_pods), (through, web_pods)

        collected = firstapp("class", "--class-dir", str(folder), "collect", "checkpoint-4")
        assert collected.returncode == 0, collected.stderr
        graded = firstapp("class", "--class-dir", str(folder), "grade", "checkpoint-4")
        assert graded.returncode == 0, graded.stderr
        rows = {row["learner"]: row for row in csv.DictReader((folder / "gradebook" / "checkpoint-4" / "class.csv").open())}
        for learner in learners:
            assert rows[learner]["score"] == rows[learner]["max_score"], rows[learner]
            assert rows[learner]["published-live"] == "1" and rows[learner]["web-published"] == "1"
        assert rows[WRONG]["web-published"] == rows[WRONG]["published-live"] == "0"  # nothing applied: nothing published
        assert rows[WRONG]["connectivity-live"] == rows[WRONG]["score"] == "0"  # nothing runs: nothing was probed
    finally:  # Ingresses first: a terminating namespace keeps its Ingress, and the claim on its host, a while
        for space in spaces.values():
            admin.networking.delete_collection_namespaced_ingress(space)


def test_a_learner_cannot_take_another_learners_host_or_every_host(klass):
    """The class's admission policy, with the learner's own credentials: an Ingress for
    another learner's host, for firstapp.localhost, for every host (a rule without a
    host) or with a default backend is refused with the learner's own host named;
    their own host is accepted. Nothing is left applied."""
    folder, _ = klass
    learner = as_learner(folder, WRONG)
    space = class_namespace(WRONG, "checkpoint-4")

    def ingress(spec: dict) -> dict:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "squat"},
                "spec": {"ingressClassName": "haproxy", **spec}}
    backend = {"service": {"name": "web", "port": {"number": 8080}}}
    paths = {"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
    try:
        for spec in ({"rules": [{"host": ingress_host(RIGHT), **paths}]},
                     {"rules": [{"host": "firstapp.localhost", **paths}]},
                     {"rules": [{"host": ingress_host(WRONG), **paths}, paths]},
                     {"defaultBackend": backend}):
            with pytest.raises(Forbidden, match=f"your own host, {ingress_host(WRONG)}|name your host "
                                                f"{ingress_host(WRONG)}"):
                learner.apply([ingress(spec)], space)
        with pytest.raises(NotFound), learner.errors("read Ingress squat"):  # nothing half-applied
            learner.networking.read_namespaced_ingress("squat", space)
        learner.apply([ingress({"rules": [{"host": ingress_host(WRONG), **paths}]})], space)
    finally:
        Cluster.connect().networking.delete_collection_namespaced_ingress(space)


def test_lesson_3_publishes_a_class_learner_under_their_own_host(klass, capsys):
    """Lesson 3 is written for firstapp.localhost; in a class its Ingresses claim the
    learner's host, and its requests through the controller ask for that host."""
    from firstapp.lockdown import publication
    from firstapp.workspace import Workspace

    folder, _ = klass
    space = Workspace("lesson-3", as_learner(folder, NONE))
    try:
        space.apply(publication(), wait=False)
        assert f"(firstapp.localhost is yours as {ingress_host(NONE)} in this class)" in capsys.readouterr().out
        hosts = [rule.host for item in space.cluster.networking.list_namespaced_ingress(space.namespace).items
                 for rule in item.spec.rules]
        assert hosts == [ingress_host(NONE)] * 2
        space.through_ingress("/whoami", times=1, patience=2)
        assert f"http://{ingress_host(NONE)}/whoami" in capsys.readouterr().out
    finally:
        Cluster.connect().networking.delete_collection_namespaced_ingress(space.namespace)


def _node_address() -> str:
    return Cluster.connect().namespace_annotations(class_namespace(NONE, "lesson-1"))["firstapp.course/node-address"]


def test_an_unwritable_class_folder_is_refused_before_the_cluster_is_touched(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"lonely{RUN},Lonely,l@example.org\n")
    run = firstapp("class", "--class-dir", str(tmp_path / "a-file" / "class"), "create", "--roster", str(roster))
    assert run.returncode == 2 and "cannot write the class's folder" in run.stderr and "Traceback" not in run.stderr
    assert Cluster.connect().namespaces(f"firstapp.learner=lonely{RUN}") == []


def test_a_learners_lesson_moves_their_node_port_among_their_own_namespaces_only(klass):
    """Lesson 3 opens web on a node port while the learner's checkpoint-3 web may hold
    it: the port moves between the learner's own namespaces, never anyone else's."""
    from firstapp.workspace import Workspace

    folder, _ = klass
    learner = as_learner(folder, RIGHT)
    lab_namespace = class_namespace(RIGHT, "checkpoint-3")
    learner.apply([d for d in reference_with_port(ports(folder)[RIGHT]) if d["kind"] == "Service"], lab_namespace)
    space = Workspace("lesson-3", learner)
    web = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 8080, "nodePort": 30080}]}}
    space.apply([web], wait=False)
    opened = learner.core.read_namespaced_service("web", space.namespace)
    assert opened.spec.ports[0].node_port == ports(folder)[RIGHT]
    with pytest.raises(NotFound), learner.errors("read the lab's web Service"):  # the port moved from there
        learner.core.read_namespaced_service("web", lab_namespace)
    space.cleanup()
