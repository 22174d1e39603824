"""Progressive hints (grader/hints.py), the learner's summary of a lab notebook's table
(grader/notebook.py), and findings that name their field's own line (grader/loading.py
keeps a line per field, not per document)."""

from __future__ import annotations

from grader import hints
from grader.findings import Finding
from grader.loading import load_text
from grader.notebook import NotebookResult, learner_summary
from grader.result import CheckResult, LabResult
from grader.run import grade_static
from tests.conftest import REPO

SERVICES = """\
# a comment
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - name: http
      port: 8080
      targetPort: 8000
  type: ClusterIP
"""


def findings_of(result: LabResult, check_id: str) -> list[Finding]:
    return next(c for c in result.checks if c.id == check_id).findings


def test_a_finding_names_the_line_of_its_field_not_of_its_document():
    result = grade_static("checkpoint-3", load_text(SERVICES, "services.yaml"))
    (kind,) = findings_of(result, "web-service-type")
    assert kind.path == "spec.type" and kind.where == "services.yaml, document 1, line 12"
    (target,) = findings_of(result, "web-service-target-port")
    assert target.where == "services.yaml, document 1, line 11"
    assert "line 11" in str(target)


def test_a_missing_field_is_located_at_its_nearest_parent_and_an_unknown_path_at_the_object():
    manifest = load_text(SERVICES.replace("  type: ClusterIP\n", ""), "s.yaml")[0]
    assert manifest.source.line_of("spec.type") == 6  # spec:
    assert manifest.source.line_of("spec.ports[0].nodePort") == 9
    assert manifest.source.line_of("") == 2 and manifest.source.line_of("nothing.here") == 2
    assert str(manifest.source) == "s.yaml, document 1, line 2"


def test_items_of_a_list_keep_their_own_field_lines():
    text = "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n" \
           "    spec:\n      type: ClusterIP\n"
    (service,) = load_text(text, "list.yaml")
    assert service.source.line_of("spec.type") == 8


def test_json_has_no_field_lines_but_still_its_document():
    (manifest,) = load_text('{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}', "s.json")
    assert manifest.source.line_of("spec.type") == 1


def failing(check_id: str, hint: str = "general advice", visibility: str = "visible") -> CheckResult:
    return CheckResult(check_id, check_id, 1, visibility, [Finding("Service/web", "spec.type", "wrong")],
                       general_hint=hint)


def passing(check_id: str, visibility: str = "visible") -> CheckResult:
    return CheckResult(check_id, check_id, 1, visibility)


def test_hints_climb_while_a_check_keeps_failing_and_start_over_once_it_passes():
    ladder = hints.HintLadder()
    assert ladder.record([failing("web-service-type")]) == {"web-service-type": 1}
    assert ladder.record([failing("web-service-type")]) == {"web-service-type": 2}
    assert ladder.record([failing("web-service-type")]) == {"web-service-type": 3}
    assert ladder.record([failing("web-service-type")]) == {"web-service-type": 3}
    assert ladder.record([passing("web-service-type")]) == {}
    assert ladder.record([failing("web-service-type")]) == {"web-service-type": 1}


def test_hidden_and_skipped_checks_get_no_hint():
    skipped = CheckResult("self-healing", "t", 1, "visible", skipped="needs a button")
    assert hints.HintLadder().record([failing("no-extra-exposure", visibility="hidden"), skipped]) == {}


def test_the_three_levels_advice_then_specific_then_only_this_checks_reference_lines():
    check = failing("web-service-type", "Decision #3: web should be NodePort.")
    reference = (REPO / "k8s/reference/checkpoint-3.yaml").read_text()
    first, second = hints.hint(check, 1, reference), hints.hint(check, 2, reference)
    assert first.text == "Decision #3: web should be NodePort." and not first.reference
    assert "type: NodePort" in second.text and second.text != first.text and not second.reference
    third = hints.hint(check, 3, reference, "k8s/reference/checkpoint-3.yaml")
    assert "type: NodePort" in third.reference and "name: web" in third.reference
    assert "selector" not in third.reference and "targetPort" not in third.reference  # other checks' answers
    assert "Deployment" not in third.reference


def test_the_third_hint_without_a_reference_says_the_instructor_has_it():
    assert hints.NO_REFERENCE in hints.hint(failing("web-service-type"), 3, None).text


def test_reference_lines_are_numbered_as_in_the_file():
    reference = (REPO / "k8s/reference/checkpoint-1.yaml").read_text()
    excerpt = hints.reference_excerpt("api-image", reference, "ref")
    lines = reference.splitlines()
    for row in excerpt.splitlines()[1:]:
        if "|" in row:
            number, text = row.split(" | ", 1)
            assert lines[int(number) - 1] == text


def test_the_learner_sees_visible_checks_and_the_number_of_hidden_ones_never_a_total():
    result = LabResult("checkpoint-3", [passing("a"), failing("b"), passing("secret", visibility="hidden")])
    summary = learner_summary(result)
    assert summary == "visible checks: 1/2 passed; 1 hidden check (not shown)"
    shown = NotebookResult(result)
    for text in (repr(shown), shown._repr_html_()):
        assert "secret" not in text and "2/3" not in text and "1/3" not in text
        assert "1 hidden check" in text


def test_the_table_shows_each_failing_checks_hint_at_its_level_and_a_note_for_a_skipped_one():
    skipped = CheckResult("self-healing", "A deleted web pod is replaced", 1, "visible", skipped="needs --allow-disruption")
    result = LabResult("checkpoint-2", [failing("web-controller", "advice"), skipped])
    shown = NotebookResult(result, {"web-controller": hints.Hint("web-controller", 2, "be specific")},
                           notes={"self-healing": "press the button below"})
    text = repr(shown)
    assert "hint 2/3: be specific" in text and "press the button below" in text
    assert "--allow-disruption" not in text and "visible checks: 0/1 passed, 1 not run" in text
