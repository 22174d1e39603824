"""Each lab notebook run top to bottom twice in one kernel, as a learner who runs it again
(its last cell removed the lab's objects): the second run starts cleanly, and both score
full marks with the reference answers. After checkpoint 3 the sample app answers on node
port 30080 again."""

from __future__ import annotations

import pytest

from course.model import APP_NAMESPACE
from firstapp import sample_app
from tests.conftest import REPO
from tests.journeys.notebook_outputs import run_twice

pytestmark = [pytest.mark.journey, pytest.mark.cluster]


@pytest.mark.parametrize("lab_id", ["checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4"])
def test_a_lab_notebook_runs_twice_in_one_kernel(lab_id, cluster, monkeypatch):
    monkeypatch.setenv("FIRSTAPP_LAB_ANSWERS", "reference")
    sample_app.deploy(cluster, APP_NAMESPACE)  # as after ./run-course
    for run, texts in enumerate(run_twice(REPO / "labs" / f"{lab_id}.ipynb"), start=1):
        applied = texts["lab.apply()"]
        assert "Error" not in applied and "Traceback" not in applied, applied
        summary = next(line for line in applied.splitlines() if "visible checks:" in line)
        passed, total = summary.split("visible checks: ")[1].split(" passed")[0].split("/")
        assert passed == total, f"run {run}: {summary}"
        assert "your file" in texts["lab.cleanup()"]
    if lab_id == "checkpoint-3":
        assert "gave node port 30080 back" in texts["lab.cleanup()"]
        assert sample_app.wait_answering(timeout=60).get("ok")
