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
    assert "name: web\nspec:\n  type: NodePort" in designer.preview.value
    assert "!" not in repr(designer).split("from / to")[1]
    assert "nodePort: 30080" in designer.yaml  # what Apply applies, with the course's port


@pytest.mark.parametrize("decision", [design.COURSE_DECISION, design.KUBERNETES_DEFAULT])
def test_the_preview_is_never_a_checkpoint_3_answer(decision):
    """The preview shows the learner's choice (each type) and leaves the rest to the lab."""
    preview = design.preview_yaml(decision)
    assert all(f"type: {decision[t]}" in preview for t in ("web", "api", "db"))
    assert "selector:" not in preview and "ports:" not in preview and "nodePort:" not in preview
    report = grade_static("checkpoint-3", load_text(preview, "preview.yaml"))
    failed = {c.id for c in report.checks if not c.passed}
    assert {"web-service-selector", "api-service-selector", "db-service-selector"} <= failed


def test_the_designer_shows_observed_beside_predicted():
    applied = []
    observed = {(s, t): (s == "a pod in the cluster", "seen") for s in design.SOURCES for t in ("web", "api", "db")}
    designer = ServiceDesigner(on_apply=lambda text: applied.append(text) or "applied", observe=lambda: observed)
    designer.choose(web="NodePort").apply()
    assert "nodePort: 30080" in applied[0]
    assert "Observed (real probes)" in designer.observed.value
    # web from outside: predicted reachable, observed blocked: the mismatch is marked
    assert "outline:2px solid #f80" in designer.observed.value


def test_choosing_an_unknown_tier_or_type_is_one_clear_message():
    from course.errors import UnusableInput

    with pytest.raises(UnusableInput, match="tiers web, api, db; types ClusterIP, NodePort"):
        ServiceDesigner().choose(web="LoadBalancer")


@pytest.mark.parametrize("lab", ["checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4"])
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
