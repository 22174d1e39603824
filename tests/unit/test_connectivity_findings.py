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


def test_a_cell_the_enforcer_has_not_yet_programmed_is_probed_again_until_it_agrees(monkeypatch):
    """kube-router filters a new pod only after its next sync: the probe pod's first
    packets may pass where the policies block them. Such cells are sent again; the
    cells that already agree are not."""
    from course.traffic import ProbeResult
    from grader import observe

    monkeypatch.setattr(observe, "POLICY_SETTLE", 3.0)
    rounds: list[list[str]] = []

    def send(specs):
        rounds.append([target for _, target in specs])
        return [ProbeResult(len(rounds) == 1 or target == "http://web") for _, target in specs]

    results = observe._settled(send, [("http", "http://web"), ("http", "http://db")], predicted=[True, False])
    assert [r.ok for r in results] == [True, False]
    assert rounds == [["http://web", "http://db"], ["http://db"]]


def test_a_lasting_disagreement_is_kept_after_the_settling_time(monkeypatch):
    from course.traffic import ProbeResult
    from grader import observe

    monkeypatch.setattr(observe, "POLICY_SETTLE", 1.0)
    results = observe._settled(lambda specs: [ProbeResult(True) for _ in specs], [("http", "http://db")],
                               predicted=[False])
    assert [r.ok for r in results] == [True]  # reported as the enforcer's disagreement
