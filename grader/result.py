"""Grading results: one `CheckResult` per check, gathered in a `LabResult`."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from grader.findings import Finding
from grader.live import Cell, Route

MAX_FINDINGS_IN_HINT = 5


class Outcome(enum.Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"  # could not run here; scores 0 of 0


@dataclass
class CheckResult:
    id: str
    title: str
    max_score: int
    visibility: str
    findings: list[Finding] = field(default_factory=list)
    general_hint: str = ""
    skipped: str = ""  # why the check did not run; it then scores 0 of 0

    @property
    def outcome(self) -> Outcome:
        if self.skipped:
            return Outcome.SKIP
        return Outcome.FAIL if self.findings else Outcome.PASS

    @property
    def passed(self) -> bool:
        """No finding: a skipped check has not failed (the lab can still pass)."""
        return not self.findings

    @property
    def score(self) -> int:
        return self.max_score if self.outcome is Outcome.PASS else 0

    @property
    def counted_max(self) -> int:
        return 0 if self.skipped else self.max_score

    @property
    def hint(self) -> str:
        """Empty when passed; else the specific problems, then the general advice."""
        if self.outcome is Outcome.SKIP:
            return f"skipped: {self.skipped}"
        if self.outcome is Outcome.PASS:
            return ""
        lines = [str(f) for f in self.findings[:MAX_FINDINGS_IN_HINT]]
        if len(self.findings) > MAX_FINDINGS_IN_HINT:
            lines.append(f"... and {len(self.findings) - MAX_FINDINGS_IN_HINT} more")
        return "\n".join(lines + [self.general_hint])


@dataclass
class LabResult:
    lab: str
    checks: list[CheckResult]
    namespace: str | None = None
    routes: list[Route] = field(default_factory=list)
    connectivity: list[Cell] = field(default_factory=list)  # checkpoint 4's truth table

    @property
    def score(self) -> int:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> int:
        return sum(c.counted_max for c in self.checks)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def visible(self) -> list[CheckResult]:
        return [c for c in self.checks if c.visibility == "visible"]

    @property
    def hidden(self) -> list[CheckResult]:
        return [c for c in self.checks if c.visibility != "visible"]

    def summary(self) -> str:
        """What a learner may be told. With hidden checks it counts visible checks only
        and never a total that includes hidden ones: a score that does not add up would
        give a hidden check's result away by arithmetic."""
        visible_passed = sum(c.outcome is Outcome.PASS for c in self.visible)
        visible_counted = sum(c.outcome is not Outcome.SKIP for c in self.visible)
        if not self.hidden:
            return f"score {self.score}/{self.max_score} ({visible_passed} of {visible_counted} checks passed)"
        plural = "s" if len(self.hidden) > 1 else ""
        return (f"visible checks: {visible_passed}/{visible_counted} passed; {len(self.hidden)} hidden check{plural}, "
                "graded by your instructor")
