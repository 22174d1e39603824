"""`grader.check(...)` in a notebook: the same result as the CLI, shown as a table."""

from __future__ import annotations

from grader import reports
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


def check(lab: str, manifests=None, namespace: str | None = None, context: str | None = None,
          static: bool = False) -> NotebookResult:
    """Grades `lab`; unusable input or no cluster is shown as a message, not a traceback."""
    from grader.errors import UnusableInput
    from grader.run import grade_live, grade_static

    try:
        if static:
            return NotebookResult(grade_static(lab, manifests))
        from firstapp.cluster import Cluster

        cluster = Cluster.connect(context)
        return NotebookResult(grade_live(lab, namespace or cluster.default_namespace, manifests, cluster=cluster))
    except UnusableInput as error:
        return _Problem(str(error))


class _Problem(NotebookResult):
    def __init__(self, message: str) -> None:
        self.message = message

    def _repr_html_(self) -> str:
        import html

        return f"<p style='color:#c00'><b>Cannot grade:</b> {html.escape(self.message)}</p>"

    def __repr__(self) -> str:
        return f"Cannot grade: {self.message}"
