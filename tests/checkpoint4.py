"""Checkpoint 4's reference answer as documents to change, and a submission made of
them: shared by the policy and route rules' tables and the cluster's truth table."""

from __future__ import annotations

import copy
import functools

import yaml

from grader.loading import load_text
from grader.submission import Submission
from tests.conftest import REPO

REFERENCE = REPO / "k8s" / "reference" / "checkpoint-4.yaml"
# libyaml where PyYAML has it: the tables load a hundred submissions.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@functools.cache
def _reference() -> tuple[dict, ...]:
    return tuple(d for d in yaml.load_all(REFERENCE.read_text(), Loader=LOADER) if d)


def reference() -> list[dict]:
    """A fresh copy of the reference's documents, free to change."""
    return copy.deepcopy(list(_reference()))


def submission_of(docs: list[dict]) -> Submission:
    return Submission(load_text(yaml.dump_all(docs, Dumper=DUMPER, sort_keys=False), "submission.yaml"),
                      services_only=False)
