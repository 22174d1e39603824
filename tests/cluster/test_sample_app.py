"""The sample application on the real cluster: `firstapp up --with-app` makes it answer
at http://localhost:30080, load spreads over api replicas, and losing the db shows in
api's readiness and on web's page, then recovers."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kubernetes.client.exceptions import ApiException

from course.cluster import Cluster, pod_is_ready
from course.model import APP_NAMESPACE
from firstapp import sample_app

pytestmark = pytest.mark.cluster
NS = APP_NAMESPACE
# api gives up on db after 2 s; on CI's kind the bare name `db` also goes to an upstream DNS
# that does not answer, so a page naming the failing hop may take 3 s
PAGE_TIMEOUT = 5


@pytest.fixture(scope="module")
def app(cluster: Cluster) -> Cluster:
    """The reference app deployed by the real command, as a learner would."""
    firstapp = Path(sys.executable).with_name("firstapp")
    run = subprocess.run([str(firstapp), "up", "--no-lab", "--with-app"], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "the app answers at http://localhost:30080" in run.stderr
    yield cluster
    cluster.apps.patch_namespaced_deployment_scale("api", NS, {"spec": {"replicas": 1}})


def test_home_page_shows_every_hop_working(app):
    with urllib.request.urlopen("http://localhost:30080/", timeout=5) as response:
        page = response.read().decode()
    assert response.status == 200
    assert "web &rarr; api &rarr; db: every hop answered" in page
    chain = sample_app.chain()
    assert chain["ok"] and [hop["hop"] for hop in chain["hops"]] == ["web", "api", "db", "visits"]
    assert chain["hops"][1]["tier"] == "api" and chain["hops"][2]["reply"] == "PONG"


def test_answers_come_from_several_api_pods_when_scaled(app):
    app.apps.patch_namespaced_deployment_scale("api", NS, {"spec": {"replicas": 3}})
    app.wait_available(NS, ["Deployment/api"], timeout=120)
    api_pods = {p.metadata.name for p in app.core.list_namespaced_pod(NS, label_selector="app=api").items}
    seen = set()
    deadline = time.monotonic() + 45  # kube-proxy picks up the new endpoints within seconds
    while len(seen) < 2 and time.monotonic() < deadline:
        chain = sample_app.chain()
        if chain.get("ok"):
            seen.add(chain["hops"][1]["pod"])
        time.sleep(0.1)
    assert len(seen) >= 2, f"every answer came from {seen}"
    assert seen <= api_pods


def _page() -> str:
    try:
        with urllib.request.urlopen("http://localhost:30080/", timeout=PAGE_TIMEOUT) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()
    except OSError:
        return ""


def _readyz(cluster: Cluster, pod: str) -> int:
    """The status of api's /readyz, asked through the API server's pod proxy: the host
    reaches pod IPs on the local provider but not into a kind node. /readyz itself gives up
    on db after 2 s."""
    try:
        cluster.core.connect_get_namespaced_pod_proxy_with_path(f"{pod}:8080", NS, "readyz",
                                                                _request_timeout=5)
        return 200
    except ApiException as error:
        return error.status
    except OSError:
        return 0


def test_losing_the_db_fails_api_readiness_and_names_the_hop_then_recovers(app):
    """db is taken away (scaled to 0, so the outage lasts until it is given back: a
    deleted db-0 comes back within a second on kind, quicker than a poll can see)."""
    app.wait_available(NS, ["StatefulSet/db", "Deployment/api"], timeout=120)
    api_pod = next(pod.metadata.name for pod in app.core.list_namespaced_pod(NS, label_selector="app=api").items
                   if pod.metadata.deletion_timestamp is None and pod_is_ready(pod))  # not one a rollout replaces
    assert _readyz(app, api_pod) == 200
    readiness, failed_hops, failure_pages = set(), set(), []
    app.apps.patch_namespaced_stateful_set_scale("db", NS, {"spec": {"replicas": 0}})
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            readiness.add(_readyz(app, api_pod))
            chain = sample_app.chain(timeout=PAGE_TIMEOUT)
            if not chain.get("ok"):
                failed_hops.add(chain.get("failed_hop"))
                failure_pages.append(_page())
            if 503 in readiness and failed_hops & {"db", "api"}:  # web's own timeout may come first
                break
            time.sleep(0.1)
    finally:
        app.apps.patch_namespaced_stateful_set_scale("db", NS, {"spec": {"replicas": 1}})
    assert 503 in readiness, f"api /readyz never failed while db was gone: {readiness}"
    assert failed_hops & {"db", "api"}, f"web never named a failing hop: {failed_hops}"
    assert any("the chain breaks at the db hop" in p or "the chain breaks at the api hop" in p
               for p in failure_pages), failure_pages[:2]
    assert sample_app.wait_answering(timeout=90)["ok"], "the chain did not recover"
    assert _readyz(app, api_pod) == 200

