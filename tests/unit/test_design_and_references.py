"""Pure pieces behind the lessons: decision #3 as data, the widgets' text form, and the
reference and starter manifests measured against the grader."""

from __future__ import annotations

import pytest
import yaml

from firstapp import design
from firstapp.widgets import ServiceDesigner
from grader.loading import load_text
from grader.run import grade_static
from tests.conftest import REPO


def test_course_decision_opens_only_web_to_the_outside():
    table = design.reachability(design.COURSE_DECISION)
    assert [table[("outside the cluster", t)] for t in ("web", "api", "db")] == [True, False, False]
    assert all(table[("a pod in the cluster", t)] for t in ("web", "api", "db"))
    assert design.mistakes(design.COURSE_DECISION) == []


def test_kubernetes_default_leaves_the_frontend_unreachable():
    assert design.mistakes(design.KUBERNETES_DEFAULT) == [
        "web: users outside the cluster cannot reach the frontend"]
    assert "db: exposed outside" in design.mistakes({"web": "NodePort", "api": "ClusterIP", "db": "NodePort"})[0]


def test_generated_services_pass_the_static_grader_only_for_the_course_decision():
    passing = grade_static("checkpoint-3", load_text(design.services_yaml(design.COURSE_DECISION), "d.yaml"))
    assert passing.score == passing.max_score
    failing = grade_static("checkpoint-3", load_text(design.services_yaml(design.KUBERNETES_DEFAULT), "d.yaml"))
    assert {c.id for c in failing.checks if not c.passed} == {"web-service-type", "web-node-port"}


def test_designer_text_form_follows_the_toggles():
    designer = ServiceDesigner()
    assert "type: ClusterIP" in repr(designer).split("---")[0]
    assert "! web: users outside the cluster cannot reach the frontend" in repr(designer)
    designer.choose(web="NodePort")
    assert "nodePort: 30080" in designer.preview.value
    assert "!" not in repr(designer).split("from / to")[1]


@pytest.mark.parametrize("lab", ["checkpoint-1", "checkpoint-2", "checkpoint-3"])
def test_reference_solutions_score_full_and_starters_do_not(lab):
    reference = grade_static(lab, REPO / "k8s" / "reference" / f"{lab}.yaml")
    assert reference.score == reference.max_score, [c.hint for c in reference.checks if not c.passed]
    starter = next((REPO / "labs" / lab).glob("*.yaml"))
    assert grade_static(lab, starter).score < grade_static(lab, starter).max_score


def test_reference_app_matches_the_course_model():
    docs = {(d["kind"], d["metadata"]["name"]): d
            for d in yaml.safe_load_all((REPO / "k8s" / "reference" / "checkpoint-3.yaml").read_text()) if d}
    from course.model import TIERS

    for tier in TIERS:
        workload = docs[(tier.controller, tier.name)]
        port = workload["spec"]["template"]["spec"]["containers"][0]["ports"][0]
        assert (port["containerPort"], port["name"]) == (tier.port, tier.port_name)
        assert workload["spec"]["template"]["metadata"]["labels"] == tier.labels
