"""The instructor's hidden checks: they count towards the score and are never shown to a
learner. `firstapp class release` leaves this module out of the learner edition, so a
learner's copy cannot read what they check."""

from __future__ import annotations

from grader import policy_rules, service_rules
from grader.checks import Check, about


def checks(lab_id: str) -> list[Check]:
    if lab_id == "checkpoint-4":
        return [Check("db-api-not-wide-open", "api and db accept only the tier that calls them", 1,
                      "A rule without `from`, with podSelector: {} or namespaceSelector: {}, or an ipBlock of every "
                      "address lets everyone in; name the calling tier's pods instead.",
                      about(("NetworkPolicy",), lambda ctx: policy_rules.policy_wide_open(
                          ctx.submission, ctx.live.namespace if ctx.live is not None else policy_rules.NAMESPACE)),
                      visibility="hidden")]
    if lab_id != "checkpoint-3":
        return []
    return [Check("no-extra-exposure", "No other Service exposes the application outside the cluster", 1,
                  "Only web should be reachable from outside; remove NodePort/LoadBalancer/externalIPs "
                  "from every other Service.",
                  about(("Service",), lambda ctx: service_rules.no_extra_exposure(ctx.submission)),
                  visibility="hidden")]
