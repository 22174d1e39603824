"""A learner's starting point: the course started with `./run-course`, so the sample app
runs in namespace `firstapp` and holds node port 30080."""

from __future__ import annotations

import pytest

from course.cluster import Cluster
from course.model import APP_NAMESPACE
from firstapp import sample_app


@pytest.fixture
def after_run_course(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """The cluster as a learner has it after ./run-course (the sample app deployed into
    `firstapp`, taking node port 30080 back from whichever namespace holds it), with the
    learner at the keys: no reference answers."""
    monkeypatch.delenv("FIRSTAPP_LAB_ANSWERS", raising=False)
    sample_app.deploy(cluster, APP_NAMESPACE)
    assert sample_app.wait_answering(timeout=60).get("ok"), "the sample app does not answer after deploying it"
    return cluster
