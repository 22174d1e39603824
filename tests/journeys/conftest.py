"""A learner's starting point: the course started with `./run-course`, so the sample app
runs in namespace `firstapp` and holds node port 30080. Labs are driven through the
editor's buttons, as a learner presses them, never with the reference answers."""

from __future__ import annotations

import pytest

from course.cluster import Cluster
from course.errors import UnusableInput
from course.model import APP_NAMESPACE
from firstapp import sample_app


def sample_app_running(cluster: Cluster) -> bool:
    try:
        with cluster.errors("read the sample app's web Service"):
            cluster.core.read_namespaced_service("web", APP_NAMESPACE)
        cluster.wait_available(APP_NAMESPACE, ["Deployment/web", "Deployment/api", "StatefulSet/db"], timeout=5)
    except UnusableInput:  # absent, or not ready: deploy it as ./run-course does
        return False
    return True


@pytest.fixture
def after_run_course(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """The cluster as a learner has it after ./run-course, with the learner at the keys
    (no reference answers)."""
    monkeypatch.delenv("FIRSTAPP_LAB_ANSWERS", raising=False)
    if not sample_app_running(cluster):
        sample_app.deploy(cluster, APP_NAMESPACE)
    return cluster
