"""The `kind` provider (the learner default): a cluster in Docker, created from
k8s/kind/cluster.yaml, with images built by `docker build` and loaded by `kind load`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from course.model import TIERS
from course.paths import course_home
from firstapp.providers.base import ProviderUnavailable, run_streamed, step

CLUSTER_NAME = "firstapp"
CONFIG = Path("k8s") / "kind" / "cluster.yaml"  # relative to the course folder


def create_command(home: Path) -> list[str]:
    return ["kind", "create", "cluster", "--name", CLUSTER_NAME, "--config", str(home / CONFIG), "--wait", "180s"]


def build_commands(home: Path) -> list[list[str]]:
    """`docker build` then `kind load` for each tier's image (kind skips images it has)."""
    apps = home / "apps"
    commands = []
    for tier in TIERS:
        commands.append(["docker", "build", "-t", tier.image, "-f", str(apps / tier.name / "Dockerfile"), str(apps)])
        commands.append(["kind", "load", "docker-image", tier.image, "--name", CLUSTER_NAME])
    return commands


class KindProvider:
    name = "kind"
    context = f"kind-{CLUSTER_NAME}"

    def _exists(self) -> bool:
        try:
            listed = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, timeout=30)
        except FileNotFoundError as error:
            raise ProviderUnavailable("kind is not installed; see https://kind.sigs.k8s.io/docs/user/quick-start/") \
                from error
        return CLUSTER_NAME in listed.stdout.split()

    def up(self) -> None:
        if self._exists():
            with step(f"cluster (kind): reuse {CLUSTER_NAME}, make {self.context} current"):
                run_streamed(["kind", "export", "kubeconfig", "--name", CLUSTER_NAME])
            return
        with step(f"cluster (kind): create {CLUSTER_NAME} from {CONFIG}",
                  fix="check that Docker runs (`docker info`) and ports 80, 443 and 30080 are free"):
            run_streamed(create_command(course_home()))

    def load_images(self) -> None:
        with step("images: docker build and kind load web, api, db",
                  fix="check `docker info`; the first build downloads python:3.11-slim and redis:7.0"):
            for command in build_commands(course_home()):
                run_streamed(command)

    def down(self) -> None:
        with step(f"cluster (kind): delete {CLUSTER_NAME}"):
            run_streamed(["kind", "delete", "cluster", "--name", CLUSTER_NAME])

    def status(self) -> list[tuple[str, str]]:
        return [("kind cluster " + CLUSTER_NAME, "running" if self._exists() else "absent")]
