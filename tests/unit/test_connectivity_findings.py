"""The live truth table's verdict: a table without a probe from web's or api's own pods
fails (an empty namespace: nothing runs to send from, and the probe pod's row alone,
all blocked, is exactly as intended); a probed cell that differs from the intended one
is named with its cause."""

from __future__ import annotations

from grader import connectivity
from grader.live import Cell, LiveState


def cell(observed: bool | None, expected: bool = True, source: str = "web") -> Cell:
    return Cell(source=source, destination="api", target="api", expected=expected, observed=observed,
                detail="HTTP 200" if observed else "timed out", predicted=expected, reason="policy allow-web")


def test_a_table_of_cells_none_of_which_was_probed_fails():
    (finding,) = connectivity.findings(LiveState("ns", connectivity=[cell(None), cell(None, expected=False)]))
    assert "nothing was probed" in finding.problem and finding.found == "no probes"


def test_the_probe_pods_row_alone_all_blocked_as_intended_fails():
    (finding,) = connectivity.findings(LiveState("ns", connectivity=[
        cell(False, expected=False, source="probe"), cell(None), cell(None, source="api")]))
    assert "nothing was probed" in finding.problem


def test_an_empty_table_fails():
    (finding,) = connectivity.findings(LiveState("ns"))
    assert "nothing was probed" in finding.problem


def test_probed_cells_as_intended_pass_and_unprobed_ones_beside_them_do_not_count():
    assert connectivity.findings(LiveState("ns", connectivity=[cell(True), cell(None)])) == []


def test_a_blocked_cell_that_should_be_allowed_is_named():
    (finding,) = connectivity.findings(LiveState("ns", connectivity=[cell(False)]))
    assert finding.expected == "allowed" and finding.found == "blocked"
