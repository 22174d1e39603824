"""The `kind` provider (the learner default): a cluster in Docker, created from
k8s/kind/cluster.yaml, with images built by `docker build` and loaded by `kind load`."""

from __future__ import annotations

import subprocess

from firstapp.providers.base import REPO, ProviderUnavailable, run_streamed, step

CLUSTER_NAME = "firstapp"
CONFIG = REPO / "k8s" / "kind" / "cluster.yaml"
APPS = REPO / "apps"
IMAGES = {tier: f"firstapp/{tier}:1.0" for tier in ("web", "api", "db")}


def create_command() -> list[str]:
    return ["kind", "create", "cluster", "--name", CLUSTER_NAME, "--config", str(CONFIG), "--wait", "180s"]


def build_commands() -> list[list[str]]:
    """`docker build` then `kind load` for each tier's image (kind skips images it has)."""
    commands = []
    for tier, image in IMAGES.items():
        commands.append(["docker", "build", "-t", image, "-f", str(APPS / tier / "Dockerfile"), str(APPS)])
        commands.append(["kind", "load", "docker-image", image, "--name", CLUSTER_NAME])
    return commands


class KindProvider:
    name = "kind"
    context = f"kind-{CLUSTER_NAME}"

    def _exists(self) -> bool:
        try:
            listed = subprocess.run(["kind", "get", "clusters"], capture_output=True, text=True, timeout=30)
        except FileNotFoundError:
            raise ProviderUnavailable("kind is not installed; see https://kind.sigs.k8s.io/docs/user/quick-start/") from None
        return CLUSTER_NAME in listed.stdout.split()

    def up(self) -> None:
        if self._exists():
            with step(f"cluster (kind): reuse {CLUSTER_NAME}, make {self.context} current"):
                run_streamed(["kind", "export", "kubeconfig", "--name", CLUSTER_NAME])
            return
        with step(f"cluster (kind): create {CLUSTER_NAME} from {CONFIG.relative_to(REPO)}",
                  fix="check that Docker runs (`docker info`) and ports 80, 443 and 30080 are free"):
            run_streamed(create_command())

    def load_images(self) -> None:
        with step("images: docker build and kind load web, api, db",
                  fix="check `docker info`; the first build downloads python:3.11-slim and redis:7.0"):
            for command in build_commands():
                run_streamed(command)

    def down(self) -> None:
        with step(f"cluster (kind): delete {CLUSTER_NAME}"):
            run_streamed(["kind", "delete", "cluster", "--name", CLUSTER_NAME])

    def status(self) -> list[tuple[str, str]]:
        return [("kind cluster " + CLUSTER_NAME, "running" if self._exists() else "absent")]
