"""Shared test fixtures: the repository's manifests, and the real cluster of the current
kubeconfig context. A cluster that does not answer fails the tests that need it; it
never skips them (CI brings the cluster up with ./run-tests before pytest starts)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from course.cluster import Cluster, ClusterUnavailable

REPO = Path(__file__).resolve().parents[1]
REFERENCE_CHECKPOINT_3 = REPO / "k8s" / "reference" / "checkpoint-3.yaml"


@pytest.fixture
def reference_checkpoint_3() -> Path:
    return REFERENCE_CHECKPOINT_3


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    try:
        return Cluster.connect()
    except ClusterUnavailable as error:
        pytest.fail(f"the tests need the course's cluster: {error}", pytrace=False)


@pytest.fixture
def namespace(cluster: Cluster):
    """A fresh namespace per test, deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    cluster.ensure_namespace(name)
    yield name
    cluster.delete_namespace(name, wait=0)
