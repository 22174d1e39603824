"""The instructor's roster: a CSV of learner id, name, email (a header line is optional).

A bad line (duplicate id, bad characters, a missing column, an empty line) is reported
naming its line and learner, and the rest of the class still goes through."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from course.errors import UnusableInput
from course.place import check_learner_id

HEADER_NAMES = {"id", "learner", "learner id", "learner_id"}


@dataclass(frozen=True)
class Learner:
    id: str
    name: str
    email: str


def parse(text: str, source: str) -> tuple[list[Learner], list[str]]:
    """The learners, and one message per line that could not be taken."""
    learners: list[Learner] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in row]
        if number == 1 and cells and cells[0].lower() in HEADER_NAMES:
            continue
        where = f"{source} line {number}"
        if not any(cells):
            problems.append(f"{where}: empty line, skipped")
            continue
        if len(cells) != 3:
            problems.append(f"{where} ({cells[0]!r}): expected 3 columns (learner id, name, email), "
                            f"found {len(cells)}")
            continue
        learner_id, name, email = cells
        try:
            check_learner_id(learner_id)
        except UnusableInput as error:
            problems.append(f"{where}: {error}")
            continue
        if learner_id in seen:
            problems.append(f"{where}: learner id {learner_id!r} is already on line {seen[learner_id]}; "
                            "each learner needs an id of their own")
            continue
        if "@" not in email:
            problems.append(f"{where} ({learner_id}): email {email!r} has no @")
            continue
        seen[learner_id] = number
        learners.append(Learner(learner_id, name, email))
    return learners, problems


def to_csv(learners: list[Learner]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["learner id", "name", "email"])
    writer.writerows((learner.id, learner.name, learner.email) for learner in learners)
    return out.getvalue()
