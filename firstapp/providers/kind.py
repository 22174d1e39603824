"""The `kind` provider (the learner default): a cluster in Docker, created from
k8s/kind/cluster.yaml (which pins the node image), with the course's images built for
the Docker host's own platform, saved to one archive and loaded with `kind load
image-archive`, which works whether Docker keeps images in its classic store or in the
containerd image store. `up` also installs the ingress controller (k8s/kind/ingress.yaml)
and the Gateway API's CRDs; NetworkPolicies are enforced by the node image's own CNI
(kindnet, since kind v0.24)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from course.model import TIERS
from course.paths import cache_dir, course_home
from firstapp.providers import gateway_api
from firstapp.providers.base import ProviderUnavailable, run_streamed, step

if TYPE_CHECKING:
    from course.cluster import Cluster

CLUSTER_NAME = "firstapp"
CONFIG = Path("k8s") / "kind" / "cluster.yaml"  # relative to the course folder
INGRESS = Path("k8s") / "kind" / "ingress.yaml"
INGRESS_CONTROLLER = "haproxy-ingress"  # a DaemonSet in kube-system, on the node labelled ingress-ready
# the DaemonSets that enforce NetworkPolicies: kindnet in kind's own node images, kube-router
# in the offline node image CI builds (kindnet's enforcer cannot run on the CI machine)
POLICY_ENFORCERS = ("kindnet", "kube-router")
NODE_IMAGE_VARIABLE = "FIRSTAPP_KIND_NODE_IMAGE"  # a node image of the same Kubernetes, for CI
MIN_KIND = (0, 30, 0)  # the first kind whose node images run Kubernetes 1.34
MIN_DOCKER = (20, 10, 0)
HOST_PORTS = (30080, 80, 443)  # cluster.yaml maps them on 127.0.0.1; kind cannot add them later


def create_command(home: Path, node_image: str | None = None) -> list[str]:
    command = ["kind", "create", "cluster", "--name", CLUSTER_NAME, "--config", str(home / CONFIG)]
    if node_image:
        command += ["--image", node_image]
    return command + ["--wait", "180s"]


def build_commands(home: Path, platform: str) -> list[list[str]]:
    """`docker build` of each tier's image for `platform` (one platform: `docker save`
    then holds exactly the image kind loads, in either of Docker's image stores)."""
    apps = home / "apps"
    return [["docker", "build", "--platform", platform, "-t", tier.image, "-f", str(apps / tier.name / "Dockerfile"),
             str(apps)] for tier in TIERS]


def load_commands(archive: Path) -> list[list[str]]:
    return [["docker", "save", "-o", str(archive), *(tier.image for tier in TIERS)],
            ["kind", "load", "image-archive", str(archive), "--name", CLUSTER_NAME]]


def parse_version(text: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of the first vX.Y.Z or X.Y.Z in `text` ("kind v0.30.0 go1.26
    linux/amd64", "20.10.24+dfsg1"); None when there is none."""
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def too_old(tool: str, found: str, minimum: tuple[int, int, int], how: str) -> str | None:
    """What to upgrade, when `found` (a version's text) is older than `minimum`."""
    version = parse_version(found)
    wanted = ".".join(map(str, minimum))
    if version is None:
        return f"{tool}: cannot tell its version from {found.strip()!r}; the course needs {wanted} or newer ({how})"
    if version < minimum:
        shown = re.search(r"\d+\.\d+\.\d+", found)[0]  # type: ignore[index]
        return f"{tool} {shown} is too old: the course needs {wanted} or newer ({how})"
    return None


def taken(port: int) -> bool:
    """Something on this machine already answers on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


INSTALL = {"kind": "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
           "docker": "https://docs.docker.com/get-started/get-docker/"}


def _output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except FileNotFoundError as error:
        raise ProviderUnavailable(f"{command[0]} is not installed; see {INSTALL[command[0]]}") from error
    except subprocess.TimeoutExpired as error:
        raise ProviderUnavailable(f"`{' '.join(command)}` did not answer within 30 s\n"
                                  "    fix: check that Docker runs and answers (`docker info`)") from error
    if done.returncode:
        raise ProviderUnavailable(f"`{' '.join(command)}` failed: {(done.stderr or done.stdout).strip()}\n"
                                  "    fix: start Docker (Docker Desktop, or `sudo systemctl start docker`)")
    return done.stdout


class KindProvider:
    name = "kind"
    context = f"kind-{CLUSTER_NAME}"

    def _exists(self) -> bool:
        return CLUSTER_NAME in _output(["kind", "get", "clusters"]).split()

    def check_tools(self) -> None:
        """kind and Docker are new enough, said before anything is created."""
        problems = [too_old("kind", _output(["kind", "version"]), MIN_KIND,
                            INSTALL["kind"]),
                    too_old("Docker", _output(["docker", "version", "--format", "{{.Server.Version}}"]), MIN_DOCKER,
                            "upgrade Docker Desktop or Docker Engine")]
        if any(problems):
            raise ProviderUnavailable("\n".join(problem for problem in problems if problem))

    def up(self) -> None:
        self.check_tools()
        if self._exists():
            with step(f"cluster (kind): reuse {CLUSTER_NAME}, make {self.context} current"):
                run_streamed(["kind", "export", "kubeconfig", "--name", CLUSTER_NAME])
            self._install_addons()
            return
        busy = [port for port in HOST_PORTS if taken(port)]
        if busy:
            raise ProviderUnavailable(
                f"port{'s' if len(busy) > 1 else ''} {', '.join(map(str, busy))} of 127.0.0.1 already answer"
                f"{'' if len(busy) > 1 else 's'}, and {CONFIG} maps {', '.join(map(str, HOST_PORTS))} there\n"
                "    fix: stop what listens there (another cluster, a web server), then run `firstapp up` again")
        node_image = os.environ.get(NODE_IMAGE_VARIABLE)
        with step(f"cluster (kind): create {CLUSTER_NAME} from {CONFIG}" + (f", node image {node_image}"
                                                                              if node_image else ""),
                  fix="check that Docker runs (`docker info`); rootless Docker cannot bind ports 80 and 443"):
            run_streamed(create_command(course_home(), node_image))
        self._install_addons()

    def _install_addons(self) -> None:
        """Applies (again: applying is idempotent) the Gateway API's CRDs and
        k8s/kind/ingress.yaml, and waits for the controller to serve the node's ports 80
        and 443."""
        import yaml

        from course.cluster import Cluster

        cluster = Cluster.connect(self.context)
        version, _ = gateway_api.pinned(course_home())
        with step(f"Gateway API: its standard CRDs {version} (GatewayClass, Gateway, HTTPRoute, ...)"):
            cluster.apply(gateway_api.crds(course_home(), cache_dir()), None)
        objects = [doc for doc in yaml.safe_load_all((course_home() / INGRESS).read_text()) if doc]
        with step(f"ingress: HAProxy Ingress from {INGRESS} on the ingress-ready node (127.0.0.1:80)"):
            cluster.apply(objects, None)
            cluster.wait_available("kube-system", [f"DaemonSet/{INGRESS_CONTROLLER}"], timeout=180)

    def load_images(self) -> None:
        platform = "linux/" + _output(["docker", "version", "--format", "{{.Server.Arch}}"]).strip()
        with step(f"images: docker build web, api, db ({platform}) and kind load them",
                  fix="check `docker info`; the first build downloads python:3.11-slim and redis:7.0"):
            for command in build_commands(course_home(), platform):
                run_streamed(command)
            with tempfile.TemporaryDirectory(prefix="firstapp-images-") as scratch:
                for command in load_commands(Path(scratch) / "images.tar"):
                    run_streamed(command)

    def down(self) -> None:
        with step(f"cluster (kind): delete {CLUSTER_NAME}"):
            run_streamed(["kind", "delete", "cluster", "--name", CLUSTER_NAME])

    def status(self) -> list[tuple[str, str]]:
        if not self._exists():
            return [("kind cluster " + CLUSTER_NAME, "absent")]
        from course.cluster import Cluster
        from course.errors import UnusableInput

        rows = [("kind cluster " + CLUSTER_NAME, "running")]
        try:
            cluster = Cluster.connect(self.context)
            rows.append(("ingress controller", _daemon_set_state(cluster, INGRESS_CONTROLLER)))
            enforcers = [(name, _daemon_set_state(cluster, name)) for name in POLICY_ENFORCERS]
            found = [f"{name}: {state}" for name, state in enforcers if state != "absent"]
            rows.append(("NetworkPolicy enforcer", "; ".join(found) or "none (policies are not enforced)"))
            rows.append(("Gateway API CRDs", _gateway_api_state(cluster)))
        except UnusableInput as error:
            rows.append(("cluster API", f"not answering ({error})"))
        return rows


def _daemon_set_state(cluster: Cluster, name: str) -> str:
    """"N of M pods ready" of DaemonSet kube-system/`name`, or "absent"."""
    from course.errors import NotFound

    try:
        ready, wanted = cluster.ready_pods("DaemonSet", name, "kube-system")
    except NotFound:
        return "absent"
    return f"{ready} of {wanted or 0} pods ready"


def _gateway_api_state(cluster: Cluster) -> str:
    """The Gateway API release of the cluster's HTTPRoute CRD, or "missing"."""
    from course.errors import NotFound

    crds = cluster.resource("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    try:
        with cluster.errors("read CRD httproutes.gateway.networking.k8s.io"):
            crd = crds.get(name="httproutes.gateway.networking.k8s.io")
    except NotFound:
        return "missing (run `firstapp up`)"
    version = (crd.metadata.annotations or {}).get("gateway.networking.k8s.io/bundle-version", "unknown version")
    return f"installed ({version}; checked statically, no controller here serves them)"
