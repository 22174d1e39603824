"""The `local` provider: a single-node cluster of upstream components on this Linux host,
driven by the scripts in k8s/local/ (which CI also calls directly)."""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request
from pathlib import Path

from course.model import TIERS
from course.paths import cache_dir, course_home
from firstapp.providers.base import ProviderUnavailable, run_streamed, step

COMPONENTS = ("containerd", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
              "kubelet", "kube-proxy", "kube-router", "haproxy-ingress")
HEALTH = {
    "etcd": "http://127.0.0.1:2381/health",
    "kube-apiserver": "https://127.0.0.1:6443/readyz",
    "kube-controller-manager": "https://127.0.0.1:10257/healthz",
    "kube-scheduler": "https://127.0.0.1:10259/healthz",
    "kubelet": "http://127.0.0.1:10248/healthz",
    "kube-proxy": "http://127.0.0.1:10256/healthz",
    "kube-router": "http://127.0.0.1:20244/healthz",  # the NetworkPolicy enforcer
    "haproxy-ingress": "http://127.0.0.1:10254/healthz",  # the ingress controller (http://127.0.0.1:80)
}
RUN_DIR = Path("/run/k8s-first-app")
CONTAINERD_SOCKET = RUN_DIR / "containerd.sock"


def state_dir() -> Path:
    return Path(os.environ.get("FIRSTAPP_STATE", "/var/lib/k8s-first-app"))


def _scripts() -> Path:
    return course_home() / "k8s" / "local"


class LocalProvider:
    name = "local"
    context = "firstapp-local"

    def _require_root(self) -> None:
        if sys.platform != "linux" or os.geteuid() != 0:
            raise ProviderUnavailable("the local provider needs Linux and root (it runs kubelet and "
                                      "containerd); use --provider kind, or run as root")

    def up(self) -> None:
        self._require_root()
        with step("cluster (local): build, start and health-check every component",
                  fix=f"read the log the error names, under {state_dir() / 'logs'}"):
            run_streamed(["bash", str(_scripts() / "up.sh")])

    def load_images(self) -> None:
        self._require_root()
        with step("images: build web, api, db offline and import them into containerd",
                  fix="run k8s/local/install-deps.sh (as root), then `firstapp up` again"):
            home = course_home()
            env = {**os.environ, "CONTAINERD_ADDRESS": str(CONTAINERD_SOCKET),
                   "PYTHONPATH": os.pathsep.join(filter(None, (str(home), os.environ.get("PYTHONPATH"))))}
            run_streamed([sys.executable, "-m", "firstapp.images", "apps", str(state_dir() / "images")], env=env)

    def down(self) -> None:
        self._require_root()
        with step("cluster (local): stop every component and clear its network"):
            run_streamed(["bash", str(_scripts() / "down.sh")])

    def status(self) -> list[tuple[str, str]]:
        rows = [(component, _component_state(component)) for component in COMPONENTS]
        if component_pid("kube-apiserver") is not None:
            rows.append(("Gateway API CRDs", _gateway_api_crds()))
        if _component_state("containerd") == "stopped":
            return rows
        from firstapp.images.containerd import imported_id

        os.environ.setdefault("CONTAINERD_ADDRESS", str(CONTAINERD_SOCKET))
        for tier in TIERS:
            try:
                rows.append((f"image {tier.image}", "loaded" if imported_id(tier.image) else "missing (run `firstapp up`)"))
            except RuntimeError as error:
                rows.append((f"image {tier.image}", f"unknown ({error})"))
        return rows


def _gateway_api_crds() -> str:
    """The Gateway API release whose HTTPRoute CRD the cluster has (up installs it)."""
    import subprocess

    try:
        found = subprocess.run(
            [str(cache_dir() / "bin" / "kubectl"), "--kubeconfig", str(state_dir() / "admin.kubeconfig"), "get", "crd",
             "httproutes.gateway.networking.k8s.io", "-o",
             r"jsonpath={.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}"],
            capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({error})"
    if found.returncode != 0:
        return "missing (run `firstapp up`)"
    return f"installed ({found.stdout.strip() or 'unknown version'}; checked statically, no controller serves them)"


def component_pid(component: str, run_dir: Path = RUN_DIR) -> int | None:
    """The pid in the component's pid file while that process is still the component, as
    k8s/local/lib.sh's is_component decides: run by root, with the command line up.sh
    recorded for that pid (NAME.cmdline: the pid, then the command line, NUL-separated), or
    without one, the component's name; else None."""
    try:
        pid = int((run_dir / f"{component}.pid").read_text())
        process = Path(f"/proc/{pid}")
        if pid <= 0 or process.stat().st_uid != 0:
            return None
        argv = (process / "cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    if not argv:  # a zombie
        return None
    try:
        recorded_pid, _, recorded = (run_dir / f"{component}.cmdline").read_bytes().partition(b"\0")
    except FileNotFoundError:
        recorded_pid = recorded = b""
    except OSError:
        return None
    if recorded_pid == str(pid).encode():
        return pid if argv == recorded else None
    return pid if Path(argv.split(b"\0")[0].decode(errors="replace")).name == component else None


def _component_state(component: str) -> str:
    pid = component_pid(component)
    if pid is None:
        return "stopped"
    url = HEALTH.get(component)
    if url is None:
        return f"running (pid {pid})"
    return f"running (pid {pid}), {'healthy' if _answers(url) else 'NOT healthy'}"


def _answers(url: str) -> bool:
    context = ssl._create_unverified_context()  # health endpoints of our own components, on loopback
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False
