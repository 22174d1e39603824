"""One record per graded lab: what the learner edits, the reference answer, where the
lab works. The grader adds its checks to these records (`grader.labs`); the CLI and
the notebooks read them from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Disruption:
    """A check that changes the learner's running app, so it runs only when asked: a
    button in the lab notebook, `--allow-disruption` on the command line."""

    check: str  # the id of the check it feeds
    button: str  # the lab editor's button
    effect: str  # what it does, in the words a learner is asked to agree to


@dataclass(frozen=True)
class Lab:
    id: str  # "checkpoint-3", what `firstapp grade LAB` takes
    title: str
    starter: str  # the file the learner edits, relative to the course folder
    reference: str  # the reference solution, relative to the course folder
    services_only: bool = False  # the lab gives the workloads; the learner writes Services
    networking: bool = False  # the learner also writes NetworkPolicies and an Ingress (or HTTPRoute)
    disruption: Disruption | None = None

    @property
    def namespace(self) -> str:
        """The namespace the lab notebook works in."""
        return f"lab-{self.id}"


LABS: dict[str, Lab] = {lab.id: lab for lab in (
    Lab("checkpoint-1", "Run the three tiers as pods", "labs/checkpoint-1/pods.yaml",
        "k8s/reference/checkpoint-1.yaml"),
    Lab("checkpoint-2", "Controllers and liveness probes", "labs/checkpoint-2/workloads.yaml",
        "k8s/reference/checkpoint-2.yaml",
        disruption=Disruption("self-healing", "Delete one web pod and watch",
                              "deletes one web pod; a Deployment replaces it")),
    Lab("checkpoint-3", "Services: decision #3", "labs/checkpoint-3/services.yaml",
        "k8s/reference/checkpoint-3.yaml", services_only=True),
    Lab("checkpoint-4", "Lock it down and publish it", "labs/checkpoint-4/lockdown.yaml",
        "k8s/reference/checkpoint-4.yaml", networking=True,
        disruption=Disruption("api-readiness-live", "Take db away and watch api",
                              "scales db to 0 for a moment; api must leave its Service, then come back")),
)}
