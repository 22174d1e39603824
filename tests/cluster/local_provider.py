"""The local provider as the cluster tests drive it: its scripts, its pid files, and
whether it is up and healthy. Shared by the tests that stop and start it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.paths import cache_dir
from firstapp.providers.local import state_dir

LOCAL = Path(__file__).resolve().parents[2] / "k8s" / "local"
STATE = state_dir()
RUN = Path("/run/k8s-first-app")
CACHE = cache_dir()
COMPONENTS = ("containerd", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
              "kubelet", "kube-proxy", "kube-router", "haproxy-ingress")


def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done


def script(name: str, timeout: float = 900) -> float:
    """Runs k8s/local/NAME as a subprocess; fails the test with its output unless it succeeds.
    Returns how long it took."""
    started = time.monotonic()
    done = subprocess.run(["bash", str(LOCAL / name)], capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - started
    print(f"{name}: {took:.1f} s", file=sys.stderr)
    assert done.returncode == 0, f"{name} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    return took


def pid(component: str) -> int | None:
    try:
        return int((RUN / f"{component}.pid").read_text())
    except (OSError, ValueError):
        return None


def alive(process: int) -> bool:
    try:
        return Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def healthy() -> bool:
    """What up.sh waits for: the node Ready and CoreDNS answering at the Service IP."""
    kubectl = [str(CACHE / "bin" / "kubectl"), "--kubeconfig", str(STATE / "admin.kubeconfig")]
    ready = sh(*kubectl, "get", "node", "firstapp-local", "-o",
               "jsonpath={.status.conditions[?(@.type=='Ready')].status}", check=False)
    dns = sh(sys.executable, str(LOCAL / "dns-query.py"), "10.96.0.10", "kubernetes.default.svc.cluster.local",
             check=False)
    return ready.stdout == "True" and dns.returncode == 0 and dns.stdout.strip() == "10.96.0.1"


def running_local_cluster(purpose: str) -> Iterator[None]:
    """A module fixture's body: fail (never skip) unless root and every component runs;
    afterwards, bring the cluster back up if a test left it unhealthy."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.fail(f"{purpose} need Linux and root", pytrace=False)
    running = [c for c in COMPONENTS if pid(c) and alive(pid(c))]
    if running != list(COMPONENTS):
        pytest.fail(f"the local cluster is not up (running: {running}); start it with k8s/local/up.sh",
                    pytrace=False)
    yield
    if not healthy():
        script("up.sh")
