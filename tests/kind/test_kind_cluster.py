"""The kind provider for real: run by tests/kind/run.sh (the second phase of
./run-tests) after `firstapp up --provider kind --with-app`, against a cluster made from
the offline node image (k8s/kind/offline). What a learner on kind depends on: the
node runs the course's Kubernetes, the app's images were loaded, the app answers at
http://localhost:30080 through kind's port mapping, and checkpoint 3's reference gets
full marks from the same command a learner runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course.cluster import Cluster
from course.model import IMAGES
from firstapp.providers import kind
from tests.cluster.test_live_grading import deploy, reference

pytestmark = [pytest.mark.cluster, pytest.mark.kind]
NODE = f"{kind.CLUSTER_NAME}-control-plane"
FIRSTAPP = Path(sys.executable).with_name("firstapp")


def node_command(*command: str) -> str:
    return subprocess.run(["docker", "exec", NODE, *command], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def test_the_current_context_is_the_kind_cluster(cluster: Cluster):
    config = subprocess.run(["kubectl", "config", "current-context"], capture_output=True, text=True, check=True)
    assert config.stdout.strip() == kind.KindProvider.context
    (node,) = cluster.core.list_node().items
    assert node.metadata.name == NODE
    assert node.metadata.labels["ingress-ready"] == "true"
    assert {c.type: c.status for c in node.status.conditions}["Ready"] == "True"


def test_the_node_runs_the_offline_image_of_the_course_kubernetes(cluster: Cluster):
    image = subprocess.run(["docker", "inspect", "--format", "{{.Config.Image}}", NODE], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert image == os.environ[kind.NODE_IMAGE_VARIABLE]
    versions = dict(line.split("=", 1) for line in (Path(__file__).parents[2] / "k8s/local/versions.env").read_text()
                    .splitlines() if "=" in line and not line.startswith("#"))
    (node,) = cluster.core.list_node().items
    assert node.status.node_info.kubelet_version == versions["KUBERNETES_VERSION"]
    assert node_command("cat", "/kind/version").strip() == versions["KUBERNETES_VERSION"]


def test_the_app_images_were_loaded_into_the_node():
    listed = node_command("crictl", "images")
    for image in IMAGES:
        repository, tag = image.split(":")
        assert any(line.split()[:2] == [f"docker.io/{repository}", tag] for line in listed.splitlines()), listed


def test_the_app_answers_on_localhost_30080_through_the_port_mapping():
    with urllib.request.urlopen("http://localhost:30080/", timeout=10) as response:
        page = response.read().decode()
    assert "web &rarr; api &rarr; db: every hop answered" in page


def test_checkpoint_3_reference_gets_full_marks(cluster: Cluster, namespace: str, tmp_path: Path):
    """As a learner on kind would: apply the answer (taking node port 30080 over from
    the sample app, as the lab does), then `firstapp grade checkpoint-3`."""
    submission = deploy(cluster, namespace, reference(), tmp_path=tmp_path)
    run = subprocess.run([str(FIRSTAPP), "grade", "checkpoint-3", "--namespace", namespace, "--manifests",
                          str(submission), "--format", "json"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["score"] == report["max_score"] == 20, [c for c in report["checks"] if not c["passed"]]
    assert all(route["observed"] == route["expected"] for route in report["routes"])


def test_status_names_the_ingress_controller_the_enforcer_and_the_gateway_crds():
    """What `firstapp up` installed on kind, as a learner checks it: HAProxy Ingress on the
    node, the policy enforcer the node image brings (kube-router in CI's offline image,
    kindnet in kind's own), and the Gateway API CRDs at the pinned release."""
    shown = subprocess.run([str(FIRSTAPP), "status", "--provider", "kind"], capture_output=True, text=True,
                           timeout=60, check=True).stdout
    rows = {line[:28].strip(): line[28:].strip() for line in shown.splitlines() if line.startswith("  ")}
    assert rows["ingress controller"] == "1 of 1 pods ready"
    assert rows["NetworkPolicy enforcer"] == "kube-router: 1 of 1 pods ready"
    version, _ = kind.gateway_api.pinned(Path.cwd())
    assert rows["Gateway API CRDs"].startswith(f"installed ({version};")


def test_up_again_reuses_the_cluster_and_keeps_the_ingress_serving():
    """A second `firstapp up` (a learner re-running lesson 1) re-applies what it
    installed and leaves http://firstapp.localhost/ served by the same controller."""
    pods_before = subprocess.run(["kubectl", "-n", "kube-system", "get", "pods", "-l", "app=haproxy-ingress", "-o",
                                  "name"], capture_output=True, text=True, check=True).stdout
    again = subprocess.run([str(FIRSTAPP), "up", "--provider", "kind", "--no-lab"], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "reuse firstapp" in again.stderr
    pods_after = subprocess.run(["kubectl", "-n", "kube-system", "get", "pods", "-l", "app=haproxy-ingress", "-o",
                                 "name"], capture_output=True, text=True, check=True).stdout
    assert pods_after == pods_before
    try:
        urllib.request.urlopen("http://127.0.0.1/", timeout=5)
    except urllib.error.HTTPError as error:  # no Ingress names this host: the controller's own 404
        assert error.code == 404
    else:
        raise AssertionError("expected the controller's 404 for a host no Ingress names")


def _run_to_completion(cluster: Cluster, namespace: str, name: str, script: str, timeout: float = 120) -> str:
    """Runs `script` (Python) in a pod with the claim `data` at /data; its log."""
    from course.model import PROBE_IMAGE

    cluster.apply([{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": "Never",
        "containers": [{"name": "main", "image": PROBE_IMAGE, "command": ["python3", "-c", script],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]}}], namespace)
    deadline = time.monotonic() + timeout
    while (phase := cluster.core.read_namespaced_pod(name, namespace).status.phase) not in ("Succeeded", "Failed"):
        assert time.monotonic() < deadline, f"pod {name} still {phase} after {timeout} s"
        time.sleep(1)
    log = cluster.core.read_namespaced_pod_log(name, namespace)
    assert phase == "Succeeded", log
    return log


def test_the_default_storage_class_provisions_a_volume_that_keeps_data(cluster: Cluster, namespace: str):
    """kind's node-image contract: the default StorageClass `standard`, served by
    local-path-provisioner (here built from the Go module proxy), binds a claim once a
    pod uses it; what one pod writes, the next reads; deleting the claim removes the
    volume."""
    classes = cluster.resource("storage.k8s.io/v1", "StorageClass").get().items
    (default,) = [c.metadata.name for c in classes
                  if (c.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
    assert default == "standard"
    cluster.apply([{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "16Mi"}}}}],
                  namespace)
    _run_to_completion(cluster, namespace, "writer", "open('/data/note', 'w').write('kept')")
    assert _run_to_completion(cluster, namespace, "reader", "print(open('/data/note').read())").strip() == "kept"
    volume = cluster.core.read_namespaced_persistent_volume_claim("data", namespace).spec.volume_name
    assert cluster.core.read_persistent_volume(volume).spec.storage_class_name == "standard"
    for pod in ("writer", "reader"):
        cluster.core.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)
    cluster.core.delete_namespaced_persistent_volume_claim("data", namespace)
    deadline = time.monotonic() + 120
    while volume in {v.metadata.name for v in cluster.core.list_persistent_volume().items}:
        assert time.monotonic() < deadline, f"volume {volume} still there 120 s after its claim was deleted"
        time.sleep(1)
