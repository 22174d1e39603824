"""Broken environments end grading with exit status 2 and one message naming what was
tried, never a traceback: no kubeconfig, an unknown context, a server that does not
answer, a missing namespace, a forbidden verb, a cluster that stops mid-run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from course.cluster import kubeconfig_path
from tests.conftest import REFERENCE_CHECKPOINT_3

pytestmark = pytest.mark.cluster
FIRSTAPP = str(Path(sys.executable).with_name("firstapp"))


def grade(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
    run = subprocess.run([FIRSTAPP, "grade", "checkpoint-3", *args], capture_output=True, text=True,
                         timeout=180, env=env)
    assert "Traceback" not in run.stderr + run.stdout
    return run


def current_kubeconfig() -> dict:
    return yaml.safe_load(Path(kubeconfig_path()).read_text())


def kubeconfig_with(tmp_path: Path, server: str | None = None, user: dict | None = None) -> Path:
    """The current context's kubeconfig, with another server address or user."""
    config = current_kubeconfig()
    context = next(c for c in config["contexts"] if c["name"] == config["current-context"])["context"]
    cluster = next(c for c in config["clusters"] if c["name"] == context["cluster"])["cluster"]
    if server:
        cluster["server"] = server
    if user is not None:
        next(u for u in config["users"] if u["name"] == context["user"])["user"] = user
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def test_no_kubeconfig(tmp_path):
    run = grade(kubeconfig=tmp_path / "missing")
    assert run.returncode == 2 and str(tmp_path / "missing") in run.stderr


def test_unknown_context():
    run = grade("--context", "no-such-context")
    assert run.returncode == 2 and "no context 'no-such-context'" in run.stderr and kubeconfig_path() in run.stderr


def test_server_that_does_not_answer(tmp_path):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    run = grade(kubeconfig=kubeconfig_with(tmp_path, server=f"https://127.0.0.1:{port}"))
    assert run.returncode == 2 and "does not answer" in run.stderr and str(port) in run.stderr


def test_missing_namespace():
    run = grade("--namespace", "no-such-namespace-here")
    assert run.returncode == 2 and "namespace no-such-namespace-here does not exist" in run.stderr


def test_forbidden_verb_names_the_permission(cluster, namespace, tmp_path):
    cluster.core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="nobody")))
    token = cluster.core.create_namespaced_service_account_token(
        "nobody", namespace, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
            audiences=[], expiration_seconds=600))).status.token
    run = grade("--namespace", namespace, kubeconfig=kubeconfig_with(tmp_path, user={"token": token}))
    assert run.returncode == 2
    assert "forbidden to list Services" in run.stderr and "read access" in run.stderr


class _DyingProxy:
    """A TCP forwarder to the API server that stops forwarding `lifetime` seconds after
    its first connection: a cluster that goes away in the middle of a grading run."""

    def __init__(self, target: tuple[str, int], lifetime: float) -> None:
        self.target, self.lifetime = target, lifetime
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.started: float | None = None
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._reaper, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            self.started = self.started or time.monotonic()
            upstream = socket.create_connection(self.target)
            self.sockets += [downstream, upstream]
            for a, b in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def _reaper(self) -> None:
        while self.started is None or time.monotonic() - self.started < self.lifetime:
            time.sleep(0.05)
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def test_cluster_that_stops_mid_run(cluster, namespace, tmp_path):
    services = [d for d in yaml.safe_load_all(REFERENCE_CHECKPOINT_3.read_text()) if d and d["kind"] == "Service"]
    for service in services:  # Services to probe: grading will start a probe pod and wait for it
        service["spec"].pop("type", None)
        service["spec"]["ports"][0].pop("nodePort", None)
    cluster.apply(services, namespace)
    server = cluster.api.configuration.host.removeprefix("https://")
    host, port = server.rsplit(":", 1)
    proxy = _DyingProxy((host, int(port)), lifetime=0.8)
    kubeconfig = kubeconfig_with(tmp_path, server=f"https://{host}:{proxy.port}")
    run = grade("--namespace", namespace, kubeconfig=kubeconfig)
    assert run.returncode == 2
    assert "stopped answering" in run.stderr or "does not answer" in run.stderr or "refused" in run.stderr
