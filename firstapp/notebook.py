"""What the lessons' code cells call, so that the cells stay one or two lines and the
prose does the teaching. Everything goes through `course.cluster.Cluster`.

This module is the notebooks' error boundary: imported in a kernel, it shows any
`UnusableInput` a cell raises (no cluster, a refused object, a missing file) as one
message naming the problem, not a traceback."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

from course.cluster import Cluster
from course.errors import UnusableInput
from course.model import TIERS
from course.paths import cache_dir
from firstapp import design, sample_app, workspace
from firstapp.lab import Lab, answers_mode  # noqa: F401  (the labs' flow, importable from here as before)
from firstapp.lockdown import lockdown_policies, publication  # noqa: F401  (lesson 3 applies them)
from firstapp.workspace import Workspace, from_host, show_yaml, status_line, ticking

__all__ = ["Lab", "Workspace", "bring_up", "from_host", "kubectl", "service_designer", "show_yaml", "status_line"]


def _show_unusable_input(shell: Any, kind: type, error: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    print(f"\033[31m{type(error).__name__}: {error}\033[0m")


def _install_error_boundary() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((UnusableInput,), _show_unusable_input)


_install_error_boundary()


def bring_up(provider: str | None = None) -> Cluster:
    """Starts (or finds) the course's cluster and its images, showing each step."""
    from firstapp.providers import choose
    from firstapp.providers.base import output_to

    running = _running_cluster(provider)
    if running is not None:
        return running
    chosen = choose(provider)
    latest = [""]
    with output_to(lambda line: latest.__setitem__(0, line)), ticking("working", lambda: latest[0]):
        chosen.up()
        chosen.load_images()
    cluster = Cluster.connect(chosen.context)
    print(f"connected to context {cluster.context}")
    return cluster


def _running_cluster(provider: str | None) -> Cluster | None:
    """The current context's cluster when it already runs with the course's images (a
    node Ready, every image on a node), else None: then there is something to start.
    Never restarts a running cluster that others may be using."""
    from course.errors import Forbidden
    from course.model import IMAGES

    if provider is not None:
        return None
    try:
        cluster = Cluster.connect()
    except UnusableInput:
        return None
    try:
        with cluster.errors("list the nodes"):
            nodes = cluster.core.list_node().items
    except Forbidden:  # a class learner's account: the instructor runs the cluster
        print(f"the cluster of context {cluster.context} answers; your instructor runs it")
        return cluster
    except UnusableInput:
        return None
    ready = [n for n in nodes if any(c.type == "Ready" and c.status == "True" for c in n.status.conditions or [])]
    present = {name for n in nodes for image in n.status.images or [] for name in image.names or []}
    missing = [i for i in IMAGES if not any(name.endswith("/" + i) or name == i for name in present)]
    if not ready or missing:
        return None
    print(f"the cluster of context {cluster.context} already runs, with the course's images: nothing to start")
    print("(`firstapp up` in a terminal starts it, rebuilds and loads the images)")
    return cluster


def kubectl(*args: str) -> None:
    """Runs kubectl against the current context and shows what it prints."""
    binary = shutil.which("kubectl", path=str(cache_dir() / "bin")) or shutil.which("kubectl")
    if binary is None:
        print("kubectl is not installed; the Python cells below do the same")
        return
    print("$ kubectl " + " ".join(shlex.quote(a) for a in args))
    run = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    print((run.stdout + run.stderr).rstrip())


def _objects(manifests: str | Path | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects from a list, a file (relative to the course folder) or YAML text."""
    return workspace._objects(manifests)[0]


def service_designer(space: Workspace):
    """Decision #3's widget: Apply applies the chosen Services to `space` (the course
    fills in selectors and ports), waits for the tiers, then probes who really reaches
    each tier, from this machine and from a pod, beside the predicted table."""
    from firstapp.widgets import ServiceDesigner

    def apply(text: str) -> str:
        space.apply(text, wait=False)
        space.wait(*[f"{t.controller}/{t.name}" for t in TIERS])
        chosen = ", ".join(f"{t}: {k}" for t, k in designer.decision.items())
        return f"applied the Services ({chosen}), with the selectors and ports the course fills in"

    designer = ServiceDesigner(on_apply=apply, observe=lambda: space.observe_tiers(design.SOURCES),
                               node_port=space.place.node_port)
    return designer


def course_decision() -> dict[str, str]:
    return dict(design.COURSE_DECISION)


def reference_workloads(lab: str = "checkpoint-3") -> list[dict[str, Any]]:
    """The app's workloads without its Services (a learner edition has them in k8s/given/)."""
    return sample_app.given_objects(lab)
