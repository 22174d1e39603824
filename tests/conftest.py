"""Shared test helpers: where the repository's manifests live."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE_CHECKPOINT_3 = REPO / "k8s" / "reference" / "checkpoint-3.yaml"


@pytest.fixture
def reference_checkpoint_3() -> Path:
    return REFERENCE_CHECKPOINT_3
