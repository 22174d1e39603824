"""A submission as the rules see it: its objects, its Services by name, and the
workloads those Services are graded against."""

from __future__ import annotations

from dataclasses import dataclass, field

from course.model import TIERS, Tier, course_pod_template
from grader.loading import Manifest
from grader.workloads import Workload, workloads_of


@dataclass
class Submission:
    manifests: list[Manifest]
    services_only: bool = True  # the lab gives the workloads: Services are graded against the course's
    workloads: list[Workload] = field(init=False)
    uses_course_workloads: bool = field(init=False)

    def __post_init__(self) -> None:
        submitted = workloads_of(self.manifests)
        # A lab that asks for Services only is graded against the course's workloads;
        # any other lab grades what was submitted, and nothing submitted passes nothing.
        self.uses_course_workloads = self.services_only and not submitted
        self.workloads = submitted if not self.uses_course_workloads else [
            Workload(f"{tier.controller}/{tier.name}", tier.controller, tier.name, course_pod_template(tier))
            for tier in TIERS]

    def services(self) -> list[Manifest]:
        return [m for m in self.manifests if m.kind == "Service"]

    def service(self, name: str) -> Manifest | None:
        return next((m for m in self.services() if m.name == name), None)

    def workload_of(self, tier: Tier) -> Workload | None:
        """The tier's workload: the one named after it, else one labelled `app: <tier>`."""
        by_name = [w for w in self.workloads if w.name == tier.name]
        if by_name:
            return by_name[0]
        return next((w for w in self.workloads if w.labels.get("app") == tier.name), None)
