"""The cluster's ingress controller (on the local provider, HAProxy Ingress, which
`firstapp up` starts on http://127.0.0.1:80) routes real requests: path-based routing
of `firstapp.localhost` (`/` to web, `/api` to api), and sticky sessions, where the
controller's cookie keeps a client on one of web's three pods while requests without it
spread over them. `curl http://firstapp.localhost/` from the host reaches web."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import pytest

from course.kube import ApiException
from firstapp.lockdown import REWRITE, STICKY, ingress
from tests.cluster.test_live_grading import obj, reference

pytestmark = pytest.mark.cluster
HOST = "firstapp.localhost"
SETTLE = 30.0  # seconds for the controller to pick up a new Ingress (it takes about one)


def get(path: str, cookie: str = "", host: str = HOST) -> tuple[int, dict, str]:
    """(status, JSON body or {}, the Set-Cookie header) of a request to the controller."""
    headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1{path}", headers=headers),
                                    timeout=5) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as error:
        return error.code, {}, ""


@pytest.fixture(scope="module")
def published(cluster):
    """The sample app with three web pods, web and api published under firstapp.localhost,
    once for the module. Its Services stay ClusterIP: the ingress replaces web's node port.
    The Ingresses go first at the end: while a terminating namespace still holds them,
    the controller keeps the host for them and skips a newer namespace's same paths."""
    namespace = f"test-ingress-{uuid.uuid4().hex[:8]}"
    cluster.ensure_namespace(namespace)
    try:
        yield _publish(cluster, namespace)
    finally:
        for name in ("web", "api"):
            try:
                cluster.networking.delete_namespaced_ingress(name, namespace)
            except ApiException:
                pass
        cluster.delete_namespace(namespace, wait=0)


def _publish(cluster, namespace: str) -> str:
    docs = reference()
    web, service = obj(docs, "Deployment", "web"), obj(docs, "Service", "web")
    web["spec"]["replicas"] = 3
    service["spec"] = {"type": "ClusterIP", "selector": service["spec"]["selector"],
                       "ports": [{"name": "http", "port": 8080, "targetPort": "http"}]}
    cluster.apply([*docs, ingress("web", "/", "web", STICKY), ingress("api", "/api", "api", REWRITE)], namespace)
    cluster.wait_available(namespace, ["Deployment/web", "Deployment/api", "StatefulSet/db"])
    started = time.monotonic()
    while get("/whoami")[0] != 200 or get("/api/whoami")[0] != 200:
        assert time.monotonic() - started < SETTLE, f"the controller does not route {HOST} after {SETTLE:.0f} s"
        time.sleep(0.2)
    # the controller learns each web pod's endpoint a moment after it is ready
    while len({get("/whoami")[1].get("pod") for _ in range(9)}) < 3:
        assert time.monotonic() - started < SETTLE, f"the controller does not use all three web pods after {SETTLE:.0f} s"
        time.sleep(0.2)
    print(f"routes live {time.monotonic() - started:.1f} s after the pods were ready", file=sys.stderr)
    return namespace


def test_paths_route_to_their_tiers(published):
    status, web, _ = get("/whoami")
    assert status == 200 and web["tier"] == "web", web
    status, api, _ = get("/api/whoami")
    assert status == 200 and api["tier"] == "api", api
    assert get("/whoami", host="other.localhost")[0] == 404  # no rule for that host


def test_the_session_cookie_keeps_a_client_on_one_web_pod(published):
    spread = Counter(get("/whoami")[1]["pod"] for _ in range(9))
    assert len(spread) == 3, spread  # without the cookie, each request may go to another pod
    _, first, set_cookie = get("/whoami")
    assert set_cookie.startswith("FIRSTAPP_WEB="), set_cookie
    cookie = set_cookie.split(";")[0]
    stuck = Counter(get("/whoami", cookie)[1]["pod"] for _ in range(9))
    assert stuck == Counter({first["pod"]: 9}), stuck


def test_curl_reaches_web_by_the_name_firstapp_localhost(published):
    """curl resolves every *.localhost name to the loopback address itself."""
    done = subprocess.run(["curl", "-sS", "--max-time", "5", f"http://{HOST}/whoami"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and json.loads(done.stdout)["tier"] == "web", done.stderr
