"""Live grading on the real cluster: each deliberately broken deployment gets the
verdict the grader must give, with a hint naming the cause; the reference solution
gets full score on all three checkpoints."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from course.model import WEB_NODE_PORT
from grader.live import Reach
from grader.run import grade_live
from tests.conftest import REFERENCE_CHECKPOINT_3

pytestmark = pytest.mark.cluster


def reference() -> list[dict]:
    return [d for d in yaml.safe_load_all(REFERENCE_CHECKPOINT_3.read_text()) if d]


def obj(docs, kind, name):
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def deploy(cluster, namespace, docs, wait_ready=True, tmp_path=None) -> Path:
    """Applies `docs` as a learner would, and returns the submission file."""
    if any(p.get("nodePort") == WEB_NODE_PORT for d in docs if d["kind"] == "Service" for p in d["spec"]["ports"]):
        cluster.release_node_port(WEB_NODE_PORT, keep_namespace=namespace)
    cluster.apply(docs, namespace)
    workloads = [f"{d['kind']}/{d['metadata']['name']}" for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    if wait_ready:
        cluster.wait_available(namespace, workloads, timeout=180)
    else:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pods = cluster.core.list_namespaced_pod(namespace).items
            if len(pods) >= len(workloads) and all(p.status.phase == "Running" for p in pods):
                break
            time.sleep(0.5)
    path = tmp_path / "submission.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    return path


def failed(result) -> dict[str, str]:
    return {c.id: c.hint for c in result.checks if not c.passed}


def test_reference_gets_full_score_on_every_checkpoint(cluster, namespace, tmp_path):
    submission = deploy(cluster, namespace, reference(), tmp_path=tmp_path)
    firstapp = Path(sys.executable).with_name("firstapp")
    run = subprocess.run([str(firstapp), "grade", "checkpoint-3", "--namespace", namespace, "--manifests",
                          str(submission), "--format", "json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["score"] == report["max_score"] == 20
    assert all(r["observed"] == r["expected"] for r in report["routes"])
    assert {r["from"] for r in report["routes"]} == {"probe pod", "host"}
    for lab in ("checkpoint-1", "checkpoint-2"):
        result = grade_live(lab, namespace, submission, cluster=cluster, allow_disruption=True)
        assert failed(result) == {}, (lab, failed(result))
        assert result.score == result.max_score
    assert not cluster.core.list_namespaced_pod(namespace, label_selector="firstapp.probe").items, \
        "the probe pod was left behind"


def test_selector_typo_leaves_the_service_without_endpoints(cluster, namespace, tmp_path):
    docs = reference()
    obj(docs, "Service", "api")["spec"]["selector"] = {"app": "apii"}
    result = grade_live("checkpoint-3", namespace, deploy(cluster, namespace, docs, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "lists no pod" in hints["api-endpoints"] and "selector" in hints["api-endpoints"]
    assert "selector" in hints["routing-in-cluster"] and "http://api:8080/whoami" in hints["routing-in-cluster"]
    assert "api-service-selector" in hints


def test_wrong_target_port_has_endpoints_but_connections_are_refused(cluster, namespace, tmp_path):
    docs = reference()
    obj(docs, "Service", "api")["spec"]["ports"][0]["targetPort"] = 8081
    result = grade_live("checkpoint-3", namespace, deploy(cluster, namespace, docs, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "api-endpoints" not in hints  # the pods are selected and ready ...
    assert "targetPort" in hints["routing-in-cluster"]  # ... but nothing listens on 8081
    assert "refused" in hints["routing-in-cluster"].lower()


def test_failing_readiness_probe_leaves_no_ready_endpoints(cluster, namespace, tmp_path):
    docs = reference()
    container = obj(docs, "Deployment", "api")["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"] = {"httpGet": {"path": "/not-there", "port": "http"}, "periodSeconds": 1}
    result = grade_live("checkpoint-3", namespace,
                        deploy(cluster, namespace, docs, wait_ready=False, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "none is ready" in hints["api-endpoints"]
    assert "readiness" in hints["routing-in-cluster"]
    assert "workloads-available" in hints


def test_web_behind_clusterip_is_not_reachable_from_outside(cluster, namespace, tmp_path):
    docs = reference()
    web = obj(docs, "Service", "web")["spec"]
    web["type"] = "ClusterIP"
    del web["ports"][0]["nodePort"]
    result = grade_live("checkpoint-3", namespace, deploy(cluster, namespace, docs, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "expected NodePort, found ClusterIP" in hints["web-service-type"]
    assert "service type" in hints["routing-from-outside"] and "localhost:30080" in hints["routing-from-outside"]
    assert "routing-in-cluster" not in hints


def test_db_exposed_outside_is_reachable_from_the_host_and_fails(cluster, namespace, tmp_path):
    docs = reference()
    db = obj(docs, "Service", "db")["spec"]
    db.pop("clusterIP")
    db["type"] = "NodePort"
    result = grade_live("checkpoint-3", namespace, deploy(cluster, namespace, docs, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "found NodePort" in hints["db-service-type"]
    assert "service type" in hints["routing-from-outside"] and "db is reachable" in hints["routing-from-outside"]
    outside = [r for r in result.routes if r.source == "host" and r.tier == "db"]
    assert outside and outside[0].observed is Reach.ALLOWED and "PONG" in outside[0].detail  # real packets got in


def test_bare_pod_instead_of_a_controller_fails_checkpoint_2(cluster, namespace, tmp_path):
    docs = reference()
    statefulset = obj(docs, "StatefulSet", "db")
    docs.remove(statefulset)
    docs.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "labels": {"app": "db"}},
                 "spec": statefulset["spec"]["template"]["spec"]})
    result = grade_live("checkpoint-2", namespace, deploy(cluster, namespace, docs, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "bare Pod is not recreated" in hints["db-controller"] and "expected StatefulSet, found Pod" in hints["db-controller"]
    assert "web-controller" not in hints


def test_missing_liveness_probe_fails_checkpoint_2(cluster, namespace, tmp_path):
    docs = reference()
    obj(docs, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0].pop("livenessProbe")
    result = grade_live("checkpoint-2", namespace, deploy(cluster, namespace, docs, tmp_path=tmp_path), cluster=cluster)
    hints = failed(result)
    assert "Deployment/web spec.template.spec.containers[0].livenessProbe" in hints["liveness-probes"]
    assert "no liveness probe" in hints["liveness-passing"]
    skipped = {c.id: c.skipped for c in result.checks if c.skipped}
    assert "--allow-disruption" in skipped["self-healing"]


def test_a_class_is_graded_into_one_csv_and_json(cluster, tmp_path):
    label = f"firstapp-test-class={int(time.time())}"
    key, value = label.split("=")
    good, broken = f"class-good-{value}", f"class-broken-{value}"
    docs = reference()
    broken_docs = reference()
    web = obj(broken_docs, "Service", "web")["spec"]
    web["type"] = "ClusterIP"
    del web["ports"][0]["nodePort"]
    try:
        for name, objects in ((good, docs), (broken, broken_docs)):
            cluster.ensure_namespace(name)
            cluster.core.patch_namespace(name, {"metadata": {"labels": {key: value}}})
            deploy(cluster, name, objects, tmp_path=tmp_path)
        firstapp = Path(sys.executable).with_name("firstapp")
        run = subprocess.run([str(firstapp), "grade", "checkpoint-3", "--all-namespaces", "--selector", label,
                              "--format", "csv"], capture_output=True, text=True, timeout=300)
        assert run.returncode == 1, run.stderr  # one learner failed something
        rows = {line.split(",")[0]: line.split(",") for line in run.stdout.splitlines()[1:]}
        header = run.stdout.splitlines()[0].split(",")
        assert rows[good][1:3] == ["19", "19"], run.stdout  # applied-matches-submission: no file, skipped
        assert rows[broken][1], run.stdout
        assert int(rows[broken][1]) < 19 and rows[broken][header.index("web-service-type")] == "0"
        run = subprocess.run([str(firstapp), "grade", "checkpoint-3", "--all-namespaces", "--selector", label,
                              "--format", "json"], capture_output=True, text=True, timeout=300)
        report = {entry["namespace"]: entry for entry in json.loads(run.stdout)}
        assert report[good]["score"] == report[good]["max_score"] == 19 and report[broken]["score"] < 19
    finally:
        for name in (good, broken):
            cluster.delete_namespace(name, wait=0)
