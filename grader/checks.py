"""The vocabulary of checks: a check's record (id, points, hint, layer, visibility),
what it evaluates (`Context`), how it says it could not run (`Skip`), and `about`,
which makes a check over nothing fail instead of passing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from course.model import WEB_NODE_PORT
from course.place import SOLO_HOST
from grader.findings import Finding
from grader.live import LiveState
from grader.submission import Submission

STATIC, STATE, ROUTING = "static", "state", "routing"
LAYERS = (STATIC, STATE, ROUTING)
HOST_FIELD = "{host}"  # in a check's title or hint: the graded place's ingress host (`Context.host`)


class Skip(Exception):
    """A check that could not run here (the reason is shown; it scores 0 of 0)."""


@dataclass(frozen=True)
class Context:
    submission: Submission
    live: LiveState | None = None  # None in a static run, which evaluates static checks only
    allow_disruption: bool = False
    submitted_file: bool = True  # False: the namespace's own objects stand in for a submission
    node_port: int = WEB_NODE_PORT  # the learner's: 30080 solo, their own in a class
    host: str = SOLO_HOST  # the learner's ingress host: firstapp.localhost solo, <id>.firstapp.localhost in a class

    @property
    def state(self) -> LiveState:
        """What the cluster showed: state and routing checks run only in a live run."""
        assert self.live is not None, "a state or routing check ran without a live state"
        return self.live


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    points: int
    hint: str  # what to look at when it fails; the findings add the specifics
    evaluate: Callable[[Context], list[Finding]]
    layer: str = STATIC
    visibility: str = "visible"  # or "hidden": counted, never revealed to the learner

    def title_in(self, ctx: Context) -> str:
        """The title as the learner of `ctx` reads it (their ingress host in place of {host})."""
        return self.title.replace(HOST_FIELD, ctx.host)

    def hint_in(self, ctx: Context) -> str:
        return self.hint.replace(HOST_FIELD, ctx.host)


def about(kinds: tuple[str, ...], rule: Callable[[Context], list[Finding]]) -> Callable[[Context], list[Finding]]:
    """`rule`, failing when the submission has no object of `kinds`: a check over
    nothing gives no points (an empty submission scores 0)."""
    def evaluate(ctx: Context) -> list[Finding]:
        if not any(m.kind in kinds or not kinds for m in ctx.submission.manifests):
            what = " or ".join(kinds) if kinds else "object"
            return [Finding("submission", "", f"nothing to check: no {what} was submitted",
                            expected=f"at least one {what}", found="none")]
        return rule(ctx)
    return evaluate
