"""Running a notebook as a learner who runs it again, and what they see of each cell's
output, as text: streams, displays' plain text and errors, with a status line rewritten
in place (carriage returns) as it ends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)  # a status line rewritten in place: keep the last


def cell_text(cell: Any) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return CARRIAGE_RETURN.sub("", "".join(parts))


def run_twice(path: Path) -> list[dict[str, str]]:
    """Runs every code cell of the notebook top to bottom, twice, in one kernel; returns,
    per run, each cell's source -> its output text. A cell that raises fails the test."""
    book = nbformat.read(path, as_version=4)
    client = NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    runs = []
    with client.setup_kernel():
        for _ in range(2):
            seen = {}
            for index, cell in enumerate(book.cells):
                if cell.cell_type == "code":
                    cell.outputs = []
                    client.execute_cell(cell, index)
                    seen[cell.source] = cell_text(cell)
            runs.append(seen)
    return runs
