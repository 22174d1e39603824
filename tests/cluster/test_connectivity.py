"""Checkpoint 4's truth table against the real enforcer: the reference answer's policies,
applied to a namespace, give with real packets exactly the connectivity the checkpoint
intends (and the grader's policy evaluator predicts); a submission that forgets DNS
egress loses every name while pod IPs still answer, and the evaluator says why."""

from __future__ import annotations

import sys

import pytest

from grader import observe
from grader.live import Cell
from grader.submission import Submission
from tests.checkpoint4 import reference, submission_of
from tests.cluster.test_live_grading import deploy

pytestmark = pytest.mark.cluster


def truth_table(cluster, namespace: str, submission: Submission) -> list[Cell]:
    live = observe.collect(cluster, namespace, networking=True)
    observe.probe_connectivity(cluster, live, submission)
    return live.connectivity


def show(cells: list[Cell]) -> str:
    rows = [f"{c.source:>5} -> {c.target:<42} expected {'allowed' if c.expected else 'blocked':<8} "
            f"observed {'-' if c.observed is None else 'allowed' if c.observed else 'blocked':<8} {c.detail[:60]}"
            for c in cells]
    return "\n".join(rows)


def test_the_reference_policies_give_exactly_the_intended_table(cluster, namespace, tmp_path):
    docs = reference()
    deploy(cluster, namespace, docs, tmp_path=tmp_path)
    cells = truth_table(cluster, namespace, submission_of(docs))
    print(show(cells), file=sys.stderr)
    probed = [c for c in cells if c.observed is not None]
    assert len(probed) >= 20, show(cells)  # web, api and the probe pod, to the tiers by name, full name and pod IP
    assert all(c.matches for c in cells), show([c for c in cells if not c.matches])
    assert {c.destination for c in probed if c.observed} == {"api", "db"}  # web -> api, api -> db
    assert all(c.predicted == c.expected for c in cells), show(cells)  # the evaluator agrees with the packets


def test_forgetting_dns_egress_loses_the_names_but_not_the_pod_ips(cluster, namespace, tmp_path):
    docs = [d for d in reference() if d["metadata"]["name"] != "dns-for-web-and-api"]
    deploy(cluster, namespace, docs, tmp_path=tmp_path, wait_ready=False)
    cells = truth_table(cluster, namespace, submission_of(docs))
    by_name = next(c for c in cells if c.source == "web" and c.target.startswith("http://api:"))
    by_ip = next(c for c in cells if c.source == "web" and c.destination == "api" and "(pod " in c.target)
    assert by_name.observed is False and by_ip.observed is True, show(cells)
    assert by_name.predicted is True  # the policies allow web -> api; only the lookup fails
