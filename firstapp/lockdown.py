"""What lesson 3's "going further" applies to lock the app down and publish it: the
Ingresses (path routing and a sticky session for web) and the NetworkPolicies (deny by
default, then exactly outside -> web -> api -> db and the cluster DNS), as objects the
lesson shows before applying; and the requests a learner's browser would send through
the ingress controller, with or without its session cookie."""

from __future__ import annotations

import http.client
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from course.place import INGRESS_ADDRESS
from grader.route_rules import HOST, INGRESS_CLASS

SESSION_COOKIE = "FIRSTAPP_WEB"
STICKY = {"haproxy-ingress.github.io/affinity": "cookie",
          "haproxy-ingress.github.io/session-cookie-name": SESSION_COOKIE,
          "haproxy-ingress.github.io/session-cookie-strategy": "insert"}
# api serves /whoami, not /api/whoami: the controller strips the prefix it routed by
REWRITE = {"haproxy-ingress.github.io/rewrite-target": "/"}


def ingress(name: str, path: str, service: str, annotations: dict[str, str]) -> dict[str, Any]:
    """An Ingress of the course's class sending `path` (and below) of firstapp.localhost to `service`:8080."""
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"ingressClassName": INGRESS_CLASS, "rules": [{"host": HOST, "http": {"paths": [
                {"path": path, "pathType": "Prefix",
                 "backend": {"service": {"name": service, "port": {"number": 8080}}}}]}}]}}


def publication() -> list[dict[str, Any]]:
    """`/` to web with a session cookie, `/api` to api."""
    return [ingress("web", "/", "web", STICKY), ingress("api", "/api", "api", REWRITE)]


def _pods(app: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"app": app}}}


def _policy(name: str, app: str | None, types: list[str], **rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name},
            "spec": {"podSelector": {"matchLabels": {"app": app}} if app else {}, "policyTypes": types, **rules}}


def lockdown_policies() -> list[dict[str, Any]]:
    """Deny every connection of every pod, then open outside -> web:8080, web -> api:8080,
    api -> db:6379, and DNS for web and api (they call the others by name)."""
    dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                   "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
           "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}
    return [
        _policy("deny-everything", None, ["Ingress", "Egress"]),
        _policy("web-from-anywhere", "web", ["Ingress"], ingress=[{"ports": [{"port": 8080}]}]),
        _policy("web-to-api-and-dns", "web", ["Egress"], egress=[{"to": [_pods("api")], "ports": [{"port": 8080}]}, dns]),
        _policy("api-from-web", "api", ["Ingress"], ingress=[{"from": [_pods("web")], "ports": [{"port": 8080}]}]),
        _policy("api-to-db-and-dns", "api", ["Egress"], egress=[{"to": [_pods("db")], "ports": [{"port": 6379}]}, dns]),
        _policy("db-from-api", "db", ["Ingress"], ingress=[{"from": [_pods("api")], "ports": [{"port": 6379}]}]),
    ]


@dataclass
class Answer:
    status: int
    tier: str  # what /whoami said ("" when the answer is not one)
    pod: str
    cookie: str  # the session cookie the controller set, if any


def request(host: str, path: str, cookie: str = "", timeout: float = 5.0) -> Answer:
    """GET `path` of http://`host`/ (firstapp.localhost, or a class learner's own) through
    the controller, as a browser sends it (any *.localhost is this machine to a browser;
    the Host header carries the name)."""
    connection = http.client.HTTPConnection(INGRESS_ADDRESS, 80, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host, **({"Cookie": cookie} if cookie else {})})
        response = connection.getresponse()
        body = response.read(65536)
        set_cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    finally:
        connection.close()
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    return Answer(response.status, str(answer.get("tier", "")), str(answer.get("pod", "")), set_cookie)


def spread(answers: list[Answer]) -> Counter[str]:
    """How many requests each pod answered."""
    return Counter(a.pod or f"HTTP {a.status}" for a in answers)
