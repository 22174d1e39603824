"""Collect, then grade the snapshot (`firstapp class collect LAB` / `class grade LAB`).

`collect` freezes each learner's lab namespace as the instructor's account sees it
(objects, EndpointSlices, pods, the routing table probed at the learner's node port),
with a timestamp. `grade` grades those snapshots only, so regrading after a rubric
change needs no cluster and gives the same answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from course.cluster import Cluster
from course.errors import UnusableInput
from course.place import CLASS_NAMESPACE, class_namespace
from course.probe import ProbePod
from firstapp.classroom.operations import ClassFolder, Outcome, for_each_learner
from firstapp.classroom.roster import Learner
from grader import gradebook, snapshot
from grader.labs import graded_lab
from grader.result import LabResult
from grader.run import grade_observed, observe_lab
from grader.submission import Submission


def collect(cluster: Cluster, folder: ClassFolder, lab_id: str, allow_disruption: bool = False) -> Outcome:
    lab = graded_lab(lab_id)
    outcome = Outcome()
    # One probe pod, in the instructor's namespace, serves the whole class: a pod start
    # costs about 1.6 s of this 2-core node's time, one per learner would be most of it.
    with ProbePod(cluster, CLASS_NAMESPACE, attempts=2) as shared:

        def one(learner: Learner) -> str:
            own = cluster.reconnect()
            namespace = class_namespace(learner.id, lab_id)
            live, _ = observe_lab(lab, own, namespace, allow_disruption=allow_disruption, shared=shared)
            at = datetime.now(UTC)
            snapshot.save(folder.submission(learner.id, lab_id), live, lab_id, learner.id, at)
            return f"{learner.id}: collected {len(live.objects)} objects from {namespace}"

        for_each_learner(folder.learners(), one, outcome)
    return outcome


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise UnusableInput(f"{path}: cannot read the weights ({error})") from error


def _is_late(collected: dict[str, str], deadline: datetime | None) -> bool:
    if deadline is None or not collected.get("last_change"):
        return False
    return datetime.fromisoformat(collected["last_change"].replace("Z", "+00:00")) > deadline


def grade(folder: ClassFolder, lab_id: str, weights_file: Path | None = None,
          deadline: datetime | None = None) -> Outcome:
    """Grades every learner's snapshot into `gradebook/<lab>/`: `class.csv`, and per
    learner `results/<id>/results.json` (Gradescope) and `feedback/<id>.md`."""
    lab = graded_lab(lab_id)
    weights_path = weights_file or (folder.weights if folder.weights.exists() else None)
    weights = gradebook.weights_from_toml(_read(weights_path), str(weights_path)) if weights_path else {}
    out = folder.gradebook(lab_id)
    rows, outcome = [], Outcome()
    for learner in folder.learners():
        results_file = out / "results" / learner.id / "results.json"
        results_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            manifests, live, collected = snapshot.load(folder.submission(learner.id, lab_id))
        except UnusableInput as error:
            results_file.write_text(json.dumps(gradebook.not_graded(str(error)), indent=2) + "\n")
            rows.append(gradebook.Row(learner.id, learner.name, learner.email, None, error=str(error)))
            outcome.problems.append(f"learner {learner.id}: {error}")
            continue
        result: LabResult = gradebook.reweighed(
            grade_observed(lab, Submission(manifests, lab.lab.services_only), live,
                           allow_disruption=live.disrupted, submitted_file=False), weights)
        late = _is_late(collected, deadline)
        results_file.write_text(json.dumps(gradebook.gradescope(result), indent=2) + "\n")
        feedback = out / "feedback" / f"{learner.id}.md"
        feedback.parent.mkdir(parents=True, exist_ok=True)
        feedback.write_text(gradebook.feedback_markdown(learner.id, result, late))
        rows.append(gradebook.Row(learner.id, learner.name, learner.email, result,
                                  collected_at=collected.get("collected_at", ""), late=late))
        outcome.done.append(f"{learner.id}: {result.score}/{result.max_score}" + (" (late)" if late else ""))
    (out / "class.csv").write_text(gradebook.class_csv(lab_id, rows))
    outcome.done.append(f"wrote {out / 'class.csv'}")
    return outcome
