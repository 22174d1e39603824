"""`grader.check(...)` in a notebook: the same grading as the CLI, shown as a learner's
table. This is the notebook's error boundary: unusable input or no cluster is shown as
one message, never a traceback.

What a learner sees: each visible check with what is wrong (object, field, line,
expected, found) and, in a lab, its hint at the level the learner has reached
(`grader.hints`); the count of visible checks passed ("visible checks: 12/12") and the
number of hidden checks, never a total that includes them (which would give a hidden
check's result away by arithmetic).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from course.errors import UnusableInput
from grader.findings import MAX_ECHO, printable
from grader.hints import LEVELS, Hint
from grader.loading import Manifest
from grader.reports import connectivity_html, connectivity_lines
from grader.result import CheckResult, LabResult, Outcome

_COLOUR = {Outcome.PASS: "#0a0", Outcome.FAIL: "#c00", Outcome.SKIP: "#888"}
_MARK = {Outcome.PASS: "&#10004; pass", Outcome.FAIL: "&#10008; fail", Outcome.SKIP: "&ndash; not run"}
MAX_FINDINGS_SHOWN = 5
_LEFT_TD, _LEFT_TH = "<td style='text-align:left'>", "<th style='text-align:left'>"


def learner_summary(result: LabResult) -> str:
    """'visible checks: 11/12 passed; 1 hidden check (not shown)', skipped ones apart."""
    ran = [c for c in result.visible if c.outcome is not Outcome.SKIP]
    passed = sum(c.outcome is Outcome.PASS for c in ran)
    text = f"visible checks: {passed}/{len(ran)} passed"
    skipped = len(result.visible) - len(ran)
    if skipped:
        text += f", {skipped} not run"
    if result.hidden:
        count = len(result.hidden)
        text += f"; {count} hidden check{'s' if count > 1 else ''} (not shown)"
    return text


def _problems(check: CheckResult, note: str | None) -> list[str]:
    if check.outcome is Outcome.SKIP:
        return [note or f"not run: {check.skipped}"]
    lines = [str(f) for f in check.findings[:MAX_FINDINGS_SHOWN]]
    if len(check.findings) > MAX_FINDINGS_SHOWN:
        lines.append(f"... and {len(check.findings) - MAX_FINDINGS_SHOWN} more")
    return lines


class NotebookResult:
    """Renders as an HTML table in JupyterLab and as text elsewhere. `hints` holds the
    hint to show for each failing check; without it (`grader.check`) each failing check
    shows its general advice. `notes` replaces a skipped check's reason (a lab
    notebook says which button runs it)."""

    def __init__(self, result: LabResult, hints: Mapping[str, Hint] | None = None,
                 notes: Mapping[str, str] | None = None) -> None:
        self.result = result
        self.progressive = hints is not None
        self.hints = dict(hints) if hints is not None else {
            c.id: Hint(c.id, 1, c.general_hint) for c in result.visible if c.outcome is Outcome.FAIL}
        self.notes = dict(notes or {})

    @property
    def score(self) -> int:
        return self.result.score

    @property
    def max_score(self) -> int:
        return self.result.max_score

    @property
    def summary(self) -> str:
        return learner_summary(self.result)

    def _hint_text(self, check: CheckResult) -> tuple[str, str]:
        hint = self.hints.get(check.id)
        if hint is None or check.outcome is not Outcome.FAIL:
            return "", ""
        label = f"hint {hint.level}/{LEVELS}: " if self.progressive else "hint: "
        return label + hint.text, hint.reference

    def _repr_html_(self) -> str:
        rows = []
        for check in self.result.visible:
            problems = "".join(f"<li>{html.escape(p)}</li>" for p in _problems(check, self.notes.get(check.id)))
            hint, reference = self._hint_text(check)
            advice = f"<div style='color:#555;text-align:left'>{html.escape(hint)}</div>" if hint else ""
            if reference:
                advice += f"<pre style='margin:2px 0;background:#f6f6f6;text-align:left'>{html.escape(reference)}</pre>"
            rows.append(
                f"<tr><td style='color:{_COLOUR[check.outcome]};font-weight:bold;white-space:nowrap;text-align:left'>"
                f"{_MARK[check.outcome]}</td><td>{html.escape(check.title)}<br><code>{html.escape(check.id)}</code></td>"
                f"<td><ul style='margin:0;padding-left:1.2em;text-align:left'>{problems}</ul>{advice}</td></tr>")
        where = f" in namespace {html.escape(self.result.namespace)}" if self.result.namespace else ""
        table = (f"<h4 class='firstapp-summary'>{html.escape(self.result.lab)}{where}: {html.escape(self.summary)}</h4>"
                 "<table class='firstapp-result'><tr><th>result</th><th>check</th><th>what is wrong, and a hint</th></tr>"
                 f"{''.join(rows)}</table>")
        if self.result.routes:
            route_rows = "".join(
                f"<tr><td>{'&#10004;' if r.matches else '&#10008;'}</td><td>{html.escape(r.source)}</td>"
                f"<td><code>{html.escape(r.target)}</code></td><td>{r.expected.value}</td><td>{r.observed.value}</td>"
                f"<td>{html.escape(r.detail[:MAX_ECHO])}</td></tr>" for r in self.result.routes)
            table += ("<h4>Routing: expected vs observed</h4><table><tr><th></th><th>from</th><th>to</th>"
                      f"<th>expected</th><th>observed</th><th>detail</th></tr>{route_rows}</table>")
        table += connectivity_html(self.result.connectivity, MAX_ECHO)
        # JupyterLab right-aligns table cells; a learner reads these from the left.
        return printable(table.replace("<td>", _LEFT_TD).replace("<th>", _LEFT_TH))

    def __repr__(self) -> str:
        where = f" in namespace {self.result.namespace}" if self.result.namespace else ""
        lines = [f"{self.result.lab}{where}: {self.summary}", ""]
        for check in self.result.visible:
            lines.append(f"  {check.outcome.value:<5} {check.id}: {check.title}")
            lines += [f"        {p}" for p in _problems(check, self.notes.get(check.id)) if check.outcome is not Outcome.PASS]
            hint, reference = self._hint_text(check)
            if hint:
                lines.append(f"        {hint}")
            lines += [f"          {line}" for line in reference.splitlines()]
        if self.result.routes:
            lines += ["", "  routing (expected vs observed):"]
            for r in self.result.routes:
                lines.append(f"    {'ok' if r.matches else 'MISMATCH':<8} {r.source:<9} -> {r.target}  expected "
                             f"{r.expected.value}, observed {r.observed.value} {r.detail[:MAX_ECHO]}")
        lines += connectivity_lines(self.result.connectivity, MAX_ECHO)
        return printable("\n".join(lines)) + "\n"


class Problem:
    """Why grading could not run, shown in place of the table."""

    score, max_score = 0, None

    def __init__(self, message: str) -> None:
        self.message = message

    def _repr_html_(self) -> str:
        return f"<p style='color:#c00'><b>Cannot grade:</b> {html.escape(printable(self.message))}</p>"

    def __repr__(self) -> str:
        return f"Cannot grade: {printable(self.message)}"


def check(lab: str, manifests: str | Path | list[Manifest] | None = None, namespace: str | None = None,
          context: str | None = None, static: bool = False) -> NotebookResult | Problem:
    """Grades `lab` (all layers, or only the YAML with `static=True`)."""
    from grader.run import grade_live, grade_static

    try:
        if static:
            return NotebookResult(grade_static(lab, manifests if manifests is not None else "-"))
        from course.cluster import Cluster

        cluster = Cluster.connect(context)
        return NotebookResult(grade_live(lab, namespace or cluster.default_namespace, manifests, cluster=cluster))
    except UnusableInput as error:
        return Problem(str(error))
