"""`grader.check(...)` in a notebook: the same result as the CLI, shown as a table.
This is the notebook's error boundary: unusable input or no cluster is shown as one
message, never a traceback."""

from __future__ import annotations

import html
from pathlib import Path

from course.errors import UnusableInput
from grader import reports
from grader.loading import Manifest
from grader.result import LabResult


class NotebookResult:
    """Renders as an HTML table in JupyterLab and as the text report elsewhere."""

    def __init__(self, result: LabResult) -> None:
        self.result = result

    def _repr_html_(self) -> str:
        return reports.to_html(self.result)

    def __repr__(self) -> str:
        return reports.to_text(self.result)

    @property
    def score(self) -> int:
        return self.result.score

    @property
    def max_score(self) -> int:
        return self.result.max_score


class Problem:
    """Why grading could not run, shown in place of the table."""

    score, max_score = 0, None

    def __init__(self, message: str) -> None:
        self.message = message

    def _repr_html_(self) -> str:
        return f"<p style='color:#c00'><b>Cannot grade:</b> {html.escape(self.message)}</p>"

    def __repr__(self) -> str:
        return f"Cannot grade: {self.message}"


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
