"""One record per graded lab: what the learner edits, the reference answer, where the
lab works. The grader adds its checks to these records (`grader.labs`); the CLI and
the notebooks read them from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lab:
    id: str  # "checkpoint-3", what `firstapp grade LAB` takes
    title: str
    starter: str  # the file the learner edits, relative to the course folder
    reference: str  # the reference solution, relative to the course folder
    services_only: bool = False  # the lab gives the workloads; the learner writes Services

    @property
    def namespace(self) -> str:
        """The namespace the lab notebook works in."""
        return f"lab-{self.id}"


LABS: dict[str, Lab] = {lab.id: lab for lab in (
    Lab("checkpoint-1", "Run the three tiers as pods", "labs/checkpoint-1/pods.yaml",
        "k8s/reference/checkpoint-1.yaml"),
    Lab("checkpoint-2", "Controllers and liveness probes", "labs/checkpoint-2/workloads.yaml",
        "k8s/reference/checkpoint-2.yaml"),
    Lab("checkpoint-3", "Services: decision #3", "labs/checkpoint-3/services.yaml",
        "k8s/reference/checkpoint-3.yaml", services_only=True),
)}
