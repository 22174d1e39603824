"""Each lab as a learner goes through it after ./run-course: the starter, typical
mistakes (a YAML typo, a document without kind, a wrong selector, a Pod edited in
place, starter objects left over, a change Kubernetes refuses, unsaved edits), then a
fix; through the editor's buttons (`press_apply`, `press_reset`, ...), on the real
cluster. Asserts the messages, the scores, the hints, and that a refused Apply
changes nothing in the cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from course import applying
from course.cluster import Cluster
from course.model import APP_NAMESPACE, WEB_NODE_PORT
from firstapp import sample_app
from firstapp.lab import Attempt, Lab, starter_text
from grader.result import Outcome
from tests.conftest import REPO

pytestmark = [pytest.mark.journey, pytest.mark.cluster]


def reference(lab: str, services_only: bool = False) -> str:
    text = (REPO / f"k8s/reference/{lab}.yaml").read_text()
    if services_only:
        text = "---\n".join(d for d in text.split("---\n") if "kind: Service\n" in d)
    return text


def type_and_apply(lab: Lab, text: str) -> Attempt:
    """Types `text` into the editor (never saved) and presses Apply."""
    lab._editor.value = text
    attempt = lab._editor.press_apply()
    assert isinstance(attempt, Attempt)
    return attempt


def outcomes(attempt: Attempt) -> dict[str, str]:
    assert attempt.result is not None, repr(attempt)
    return {c.id: c.outcome.value for c in attempt.result.visible}


def failing(attempt: Attempt) -> set[str]:
    return {check for check, outcome in outcomes(attempt).items() if outcome == "FAIL"}


def lab_objects(cluster: Cluster, namespace: str) -> dict[str, tuple[str, str]]:
    """Kind/name -> (uid, resourceVersion) of the workloads, pods and Services there."""
    found: dict[str, tuple[str, str]] = {}
    for kind, items in (("Pod", cluster.core.list_namespaced_pod(namespace).items),
                        ("Service", cluster.core.list_namespaced_service(namespace).items),
                        ("Deployment", cluster.apps.list_namespaced_deployment(namespace).items),
                        ("StatefulSet", cluster.apps.list_namespaced_stateful_set(namespace).items)):
        for item in items:
            if not item.metadata.deletion_timestamp and "firstapp-probe" not in item.metadata.name:
                found[f"{kind}/{item.metadata.name}"] = (item.metadata.uid, item.metadata.resource_version)
    return found


def start(lab_id: str, cluster: Cluster, tmp_path: Path) -> Lab:
    lab = Lab(lab_id, cluster, file=tmp_path / f"{lab_id}.yaml", quiet=True)
    assert lab.editor().value == starter_text(lab_id)  # no file yet: the starter
    lab._editor.press_reset()  # a clean start, as a learner who pressed Reset and confirmed
    assert lab._editor.value == starter_text(lab_id) and lab.file.read_text() == starter_text(lab_id)
    assert applying.labelled(cluster, lab.namespace, lab.selector) == []
    return lab


def test_checkpoint_1_typo_missing_kind_pod_edited_in_place_hints_and_reruns(after_run_course, tmp_path):
    cluster = after_run_course
    lab = start("checkpoint-1", cluster, tmp_path)
    starter = starter_text("checkpoint-1")

    first = type_and_apply(lab, starter)
    assert first.applied and "applied to namespace lab-checkpoint-1: Pod/web, Pod/api" in first.messages[-2:][0]
    assert {"db-image", "db-pod-healthy"} <= failing(first)
    assert "hint 1/3" in repr(first)
    before = lab_objects(cluster, lab.namespace)

    # A YAML typo: one message with line and column, nothing applied, no hint climbed.
    typo = starter.replace("image: firstapp/api:1.0   # TODO: the port", "image: firstapp/api:1.0: the port")
    line = typo.splitlines().index("      image: firstapp/api:1.0: the port") + 1
    attempt = type_and_apply(lab, typo)
    assert not attempt.applied and attempt.result is None
    assert attempt.messages[0].startswith(f"not applied: checkpoint-1.yaml: YAML syntax error at line {line}, column ")
    assert "Traceback" not in repr(attempt) and "ScannerError" not in repr(attempt)
    assert attempt.messages[2] == f"  {line:>4} |       image: firstapp/api:1.0: the port"  # the line, numbered
    assert attempt.messages[3].endswith("^")
    assert lab.file.read_text() == typo  # saved as typed
    assert lab_objects(cluster, lab.namespace) == before

    # A document without kind (was `KeyError: 'kind'`).
    attempt = type_and_apply(lab, starter.replace("kind: Pod\nmetadata:\n  name: api", "metadata:\n  name: api"))
    assert not attempt.applied and "document 2" in attempt.messages[0] and "has no kind" in attempt.messages[0]
    assert lab_objects(cluster, lab.namespace) == before

    # The same failure again: the hint gets more specific, then shows the reference's lines for that check only.
    second = type_and_apply(lab, starter)
    assert "hint 2/3" in repr(second) and "imagePullPolicy: IfNotPresent" in repr(second)
    third = type_and_apply(lab, starter)
    db_image = third.shown.hints["db-image"]
    assert db_image.level == 3 and "image: firstapp/db:1.0" in db_image.reference
    assert "containerPort" not in db_image.reference and "Pod/web" not in db_image.reference
    assert lab_objects(cluster, lab.namespace) == before  # the same text applied again changes nothing

    # The fix adds api's port: Kubernetes refuses to change a running Pod, so the Pod is replaced, after saying so.
    fixed = reference("checkpoint-1")
    assert lab.file.read_text() != fixed
    seen: list[str] = []
    lab._editor._progress = seen.append  # the editor's status line, as it changes
    attempt = type_and_apply(lab, fixed)  # typed, never saved: Apply takes the editor's text
    assert lab.file.read_text() == fixed
    assert attempt.replaced == ["Pod/api"]
    (said,) = [m for m in attempt.messages if m.startswith("Pod/api: Kubernetes does not change a running Pod's "
                                                            "containers") and "replaced" in m]
    assert seen.index(said) < seen.index("waiting for the pods to be ready")  # said before it was done
    assert failing(attempt) == set() and attempt.shown.summary == "visible checks: 8/8 passed"
    after = lab_objects(cluster, lab.namespace)
    assert after["Pod/web"] == before["Pod/web"] and after["Pod/api"][0] != before["Pod/api"][0]

    # Fields Kubernetes would refuse, each at its own line: nothing applied.
    wrong = fixed.replace("  name: web\n", "  name: web\n  namespace: default\n", 1).replace(
        "    - name: db\n", "    - name: db\n      imagePulPolicy: Always\n", 1)
    attempt = type_and_apply(lab, wrong)
    lines = wrong.splitlines()
    assert not attempt.applied and attempt.messages[0].startswith("not applied: 2 problems in your file")
    assert any("Pod/web metadata.namespace" in m and f"line {lines.index('  namespace: default') + 1}]" in m
               for m in attempt.messages)
    assert any("imagePulPolicy" in m and f"line {lines.index('      imagePulPolicy: Always') + 1}]" in m
               for m in attempt.messages)
    assert {ref: uid for ref, (uid, _) in lab_objects(cluster, lab.namespace).items()} == \
           {ref: uid for ref, (uid, _) in after.items()}
    type_and_apply(lab, fixed)

    # An image the cluster does not have: Apply says so at once instead of waiting minutes.
    attempt = type_and_apply(lab, fixed.replace("image: firstapp/db:1.0", "image: firstapp/db:2.0"))
    assert attempt.applied and not attempt.replaced  # an image is the one thing a running Pod may change
    assert any("waiting will not help: pod db: db " in m and "firstapp/db:2.0" in m for m in attempt.messages)
    assert "db-pod-healthy" in failing(attempt)
    assert failing(type_and_apply(lab, fixed)) == set()
    after = lab_objects(cluster, lab.namespace)

    # Re-running the notebook's first cell keeps the work: nothing deleted, the editor shows the file.
    again = Lab("checkpoint-1", cluster, file=lab.file, quiet=True)
    assert again.editor().value == fixed
    assert {ref: uid for ref, (uid, _) in lab_objects(cluster, lab.namespace).items()} == \
           {ref: uid for ref, (uid, _) in after.items()}

    # Deleting what is already gone is no error.
    assert "removed" in again.cleanup()
    assert "removed" in again.cleanup()


def test_checkpoint_2_leftovers_pruned_refusal_changes_nothing_statefulset_replaced_self_healing(after_run_course,
                                                                                                  tmp_path):
    cluster = after_run_course
    lab = start("checkpoint-2", cluster, tmp_path)
    first = type_and_apply(lab, starter_text("checkpoint-2"))
    assert first.applied and {"api-controller", "db-controller"} <= failing(first)

    # The fix: the starter's bare Pods leave the file, so they leave the cluster too (they used to be blamed).
    fixed = reference("checkpoint-2")
    attempt = type_and_apply(lab, fixed)
    assert set(attempt.pruned) == {"Pod/api", "Pod/db"}
    assert "removed Pod/api: it is no longer in your file" in attempt.messages
    objects = lab_objects(cluster, lab.namespace)
    assert "Pod/api" not in objects and "Pod/db" not in objects
    assert failing(attempt) == set(), repr(attempt)
    self_healing = next(c for c in attempt.result.visible if c.id == "self-healing")
    assert self_healing.outcome is Outcome.SKIP and "delete one web pod and watch" in repr(attempt)
    assert "--allow-disruption" not in repr(attempt)

    # A change the API server refuses (selector not matching the template) with another change beside it:
    # nothing is applied, not even the other change.
    before = lab_objects(cluster, lab.namespace)
    refused = fixed.replace("replicas: 1", "replicas: 2", 1).replace(
        "  selector:\n    matchLabels:\n      app: web", "  selector:\n    matchLabels:\n      app: webb", 1)
    attempt = type_and_apply(lab, refused)
    assert not attempt.applied and attempt.messages[0].startswith("not applied: Kubernetes refused your file")
    assert any("Deployment/web" in m and "selector" in m for m in attempt.messages)
    assert lab_objects(cluster, lab.namespace) == before
    assert cluster.apps.read_namespaced_deployment("web", lab.namespace).spec.replicas == 1

    # An immutable field of a StatefulSet: replaced, after saying so.
    attempt = type_and_apply(lab, fixed.replace("serviceName: db", "serviceName: redis"))
    assert attempt.replaced == ["StatefulSet/db"]
    assert any("does not change a StatefulSet's selector, serviceName" in m for m in attempt.messages)
    assert type_and_apply(lab, fixed).replaced == ["StatefulSet/db"]

    # Self-healing, run knowingly with the button.
    shown = lab._editor.press_disruption()
    healed = next(c for c in shown.result.visible if c.id == "self-healing")
    assert healed.outcome is Outcome.PASS, repr(shown)
    lab.cleanup()


def test_checkpoint_3_wrong_selector_takes_the_node_port_from_the_sample_app_then_the_fix(after_run_course, tmp_path):
    cluster = after_run_course
    lab = start("checkpoint-3", cluster, tmp_path)
    try:
        first = type_and_apply(lab, starter_text("checkpoint-3"))
        assert any(m.startswith("started the workloads this lab gives you") for m in first.messages) or \
            "Deployment/web" in lab_objects(cluster, lab.namespace)
        assert {"web-service-type", "api-service-type", "db-service-selector"} <= failing(first)
        text = repr(first)
        assert "visible checks: " in text
        hidden = len(first.result.hidden)
        if hidden:
            assert f"{hidden} hidden check" in text
        total = len(first.result.checks)
        assert f"/{total}" not in text.split("\n", 1)[0]  # no total that includes hidden checks

        fixed = reference("checkpoint-3", services_only=True)
        # A wrong selector (and db not yet headless).
        wrong = fixed.replace("selector: {app: web}", "selector: {app: wbe}").replace("  clusterIP: None\n", "")
        attempt = type_and_apply(lab, wrong)
        # The sample app's (or, on a cluster shared with a lesson running, whoever's) web held the port.
        moved = [m for m in attempt.messages if m.startswith(f"node port {WEB_NODE_PORT} moved here from Service ")]
        assert len(moved) == 1 and moved[0].endswith("(node ports are cluster-wide); lab.cleanup() gives it back")
        holder = moved[0].split("from Service ")[1].split(" ")[0]
        assert "web-service-selector" in failing(attempt)
        selector_line = wrong.splitlines().index("  selector: {app: wbe}") + 1
        (finding,) = next(c for c in attempt.result.checks if c.id == "web-service-selector").findings
        assert finding.where.endswith(f"line {selector_line}") and finding.path == "spec.selector"

        # The fix; making db headless changes its clusterIP, which Kubernetes never changes: replaced.
        attempt = type_and_apply(lab, fixed)
        assert attempt.replaced == ["Service/db"]
        assert any(m.startswith("Service/db: Kubernetes does not change a Service's clusterIP") for m in attempt.messages)
        assert any(m.startswith("waiting 30 s before checking: the cluster's DNS") for m in attempt.messages)
        assert failing(attempt) == set(), repr(attempt)
        assert attempt.shown.summary.startswith(f"visible checks: {len(attempt.result.visible)}/")
        assert f"gave node port {WEB_NODE_PORT} back to Service {holder}" in lab.cleanup()
        if holder == f"{APP_NAMESPACE}/web":
            assert sample_app.wait_answering(timeout=60).get("ok")
    finally:
        lab.cleanup()
        sample_app.deploy(cluster, APP_NAMESPACE)  # the learner's sample app holds its port, whatever happened
