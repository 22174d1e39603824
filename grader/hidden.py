"""The instructor's hidden checks: they count towards the score and are never shown to a
learner. `firstapp class release` leaves this module out of the learner edition, so a
learner's copy cannot read what they check."""

from __future__ import annotations

from grader import service_rules
from grader.checks import Check, about


def checks(lab_id: str) -> list[Check]:
    if lab_id != "checkpoint-3":
        return []
    return [Check("no-extra-exposure", "No other Service exposes the application outside the cluster", 1,
                  "Only web should be reachable from outside; remove NodePort/LoadBalancer/externalIPs "
                  "from every other Service.",
                  about(("Service",), lambda ctx: service_rules.no_extra_exposure(ctx.submission)),
                  visibility="hidden")]
