"""Learners' journeys through the lessons, on the real cluster, in the state a learner has
after `./run-course`: the sample app deployed in namespace `firstapp`, holding node
port 30080. Each lesson runs twice in a row in one kernel (re-running is safe), and
every demonstration it shows is asserted on both runs: what the prose says is what the
cluster did."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

import pytest

from course.model import APP_NAMESPACE, APP_URL, WEB_NODE_PORT
from firstapp import sample_app
from tests.conftest import REPO
from tests.journeys.notebook_outputs import run_twice

pytestmark = pytest.mark.journey
LESSONS = REPO / "lessons"


@pytest.fixture
def sample_app_holds_the_port(cluster):
    """The sample app in `firstapp`, answering at http://localhost:30080, as `./run-course`
    leaves it (taking the port back from whichever namespace holds it)."""
    sample_app.deploy(cluster, APP_NAMESPACE)
    assert sample_app.wait_answering(timeout=60).get("ok"), "the sample app does not answer after deploying it"
    assert answering_namespace(cluster) == APP_NAMESPACE
    return cluster


def answering_namespace(cluster) -> str | None:
    """The namespace of the web pod that answers http://localhost:30080/whoami."""
    with urllib.request.urlopen(f"{APP_URL}/whoami", timeout=5) as response:
        ip = json.load(response)["ip"]
    pods = cluster.core.list_pod_for_all_namespaces(field_selector=f"status.podIP={ip}").items
    return pods[0].metadata.namespace if pods else None


def output_of(run: dict[str, str], start: str) -> str:
    matches = [text for source, text in run.items() if source.startswith(start)]
    assert len(matches) == 1, f"no single cell starts with {start!r}"
    return matches[0]


def test_lesson_1_twice(sample_app_holds_the_port):
    for run in run_twice(LESSONS / "01-getting-started.ipynb"):
        assert output_of(run, "from firstapp import notebook")  # found the running cluster, said so
        assert sample_app_holds_the_port.context in output_of(run, 'notebook.kubectl("config"')
        pods = output_of(run, "notebook.kubectl(\"get\", \"pods\"")
        assert "kube-system" in pods and APP_NAMESPACE in pods
        applied = output_of(run, "space = notebook.Workspace")
        assert "kind: Pod" in applied and "$ kubectl apply --server-side -n lesson-1 -f k8s/reference/checkpoint-1.yaml" in applied
        assert len(re.findall(r"^(web|api|db) +yes +0 ", applied, re.MULTILINE)) == 3
        asked = output_of(run, "space.from_pod")
        assert "web pod web answered (this namespace)" in asked and "api pod api answered (this namespace)" in asked
        assert "namespace lesson-1 deleted" in output_of(run, "space.cleanup()")


def test_lesson_2_twice(sample_app_holds_the_port):
    for run in run_twice(LESSONS / "02-processes.ipynb"):
        assert "api asked Redis at localhost:6379, which answered PONG" in output_of(run, "space.apply('''")
        assert "deleted Pod/api-and-db" in output_of(run, 'space.delete("Pod"')
        shown = output_of(run, 'space.apply("k8s/reference/checkpoint-2.yaml")')
        assert "kind: StatefulSet" in shown and "serviceName: db" in shown  # seen before checkpoint 2 asks for one
        assert re.search(r"^db-0 +yes ", shown, re.MULTILINE)
        healed = output_of(run, "space.delete_pod_and_watch")
        deleted, replaced = re.search(r"deleted pod (\S+)", healed)[1], re.search(r"replaced by (\S+)", healed)[1]
        assert deleted != replaced and replaced.startswith("api-")
        scaled = output_of(run, 'space.scale("api", 3)')
        assert len(re.findall(r"^api-\S+ +yes ", scaled, re.MULTILINE)) == 3
        assert "namespace lesson-2 deleted" in output_of(run, "space.cleanup()")


def test_lesson_3_twice_reads_true_after_run_course(sample_app_holds_the_port):
    cluster = sample_app_holds_the_port
    for run in run_twice(LESSONS / "03-services.ipynb"):
        assert re.search(r"replaced by web-\S+ with IP", output_of(run, "space.delete_pod_and_watch"))
        # (a widget's text form is cut at 110 characters; tests/unit checks the whole preview)
        assert "Selectors and ports are left out" in output_of(run, "designer = notebook.service_designer")
        # The sample app held the port (the fixture saw it answer); the lesson says who held it,
        # takes it, and only then shows ClusterIP. (On a cluster shared with other tests, another
        # namespace may have taken the port meanwhile: then that one is named and given it back.)
        took = re.search(rf"node port {WEB_NODE_PORT} was held by Service (\S+)/web;", output_of(run, "space.take_node_port()"))
        assert took, output_of(run, "space.take_node_port()")
        cluster_ip = output_of(run, "designer.apply()\nspace.from_host")
        assert re.search(rf"http://localhost:{WEB_NODE_PORT}/whoami +no answer", cluster_ip), cluster_ip
        assert re.search(r"outside the cluster -> web +blocked +blocked: no node port\n", cluster_ip), cluster_ip
        assert "\n! " not in cluster_ip  # observed as predicted, every line
        node_port = output_of(run, "designer.choose")
        assert re.search(r"outside the cluster -> web +reaches +HTTP 200: web pod web-\S+ answered \(this namespace\)",
                         node_port), node_port
        assert "\n! " not in node_port
        assert re.search(r"HTTP 200: web pod web-\S+ answered \(this namespace\)", output_of(run, 'space.from_host("/whoami")'))
        inside = output_of(run, 'space.from_pod("http://web:8080/whoami"')
        assert inside.count("answered (this namespace)") == 3
        assert "web -> api -> db: every hop answered" in output_of(run, "space.chain()")
        names = output_of(run, "space.resolve(")
        assert re.search(r"^api +-> \S+ \(Service api's cluster IP\)$", names, re.MULTILINE), names
        assert re.search(r"^db\.lesson-3\.svc\.cluster\.local +-> \S+ \(pod db-0\)$", names, re.MULTILINE), names
        assert re.search(r"^db-0\.db\.lesson-3\.svc\.cluster\.local +-> \S+ \(pod db-0\)$", names, re.MULTILINE), names
        unready = output_of(run, 'space.wait_endpoints("api", ready=True)\nspace.scale')
        assert re.search(r"Service api: api-\S+ \S+ \(NOT ready\)\s*$", unready), unready
        assert re.search(r"Service api: api-\S+ \S+ \(ready\)\s*$", output_of(run, 'space.scale("db", 1')), run
        spread = output_of(run, 'space.through_ingress("/whoami", times=6)')
        assert "6 requests, answered by 3 web pods" in spread, spread  # without the cookie: spread
        sticky = output_of(run, 'space.through_ingress("/whoami", times=6, keep_cookie=True)')
        assert "set the cookie FIRSTAPP_WEB" in sticky and "6 requests, answered by 1 web pod\n" in sticky, sticky
        assert "1 requests, answered by 1 api pod" in output_of(run, 'space.through_ingress("/api/whoami"')
        table = output_of(run, "space.truth_table()")
        counted = re.search(r"^(\d+) probes, (\d+) as intended; not probed from db", table, re.MULTILINE)
        assert counted and int(counted[1]) >= 20 and counted[1] == counted[2], table
        assert "MISMATCH" not in table
        assert "web -> api -> db: every hop answered" in output_of(run, "space.chain(patience=15)")  # policies on
        assert f"gave node port {WEB_NODE_PORT} back to Service {took[1]}/web" in output_of(run, "space.cleanup()")
        if took[1] == APP_NAMESPACE:
            assert sample_app.wait_answering(timeout=30).get("ok")
            assert answering_namespace(cluster) == APP_NAMESPACE


def test_a_host_answer_names_the_namespace_that_answered(sample_app_holds_the_port, capsys):
    """Without taking the port, a lesson's ClusterIP web leaves 30080 to the sample app:
    the helpers say that the answer came from namespace firstapp, not from the lesson."""
    from firstapp import design, notebook

    space = notebook.Workspace(f"journey-{uuid.uuid4().hex[:6]}", sample_app_holds_the_port)
    try:
        space.apply(notebook.reference_workloads(), wait=False)
        space.cluster.apply(design.services(design.KUBERNETES_DEFAULT), space.namespace)
        space.wait("Deployment/web", "Deployment/api", "StatefulSet/db")
        capsys.readouterr()
        space.from_host("/whoami")
        assert f"answered (namespace {APP_NAMESPACE}, NOT this lesson's)" in capsys.readouterr().out
        seen = space.observe_tiers(design.SOURCES)
        reached, what = seen[("outside the cluster", "web")]
        assert not reached and f"namespace {APP_NAMESPACE}, NOT this lesson's" in what
        assert all(seen[("a pod in the cluster", tier)][0] for tier in ("web", "api", "db")), seen
    finally:
        space.cleanup()


def test_re_running_deletes_and_workspaces_is_no_error(sample_app_holds_the_port, capsys):
    name = f"journey-{uuid.uuid4().hex[:6]}"
    space = notebook_workspace(name, sample_app_holds_the_port)
    try:
        space.apply("k8s/reference/checkpoint-1.yaml")
        space.delete("Pod", "web")
        space.delete("Pod", "web")  # already gone: said, not raised
        assert "Pod/web was already gone" in capsys.readouterr().out
        again = notebook_workspace(name, sample_app_holds_the_port)  # a re-run cell: the namespace starts empty
        assert again._pods() == []
    finally:
        space.cleanup()
        space.cleanup()  # twice: nothing left to remove is no error


def notebook_workspace(name, cluster):
    from firstapp import notebook

    return notebook.Workspace(name, cluster)
