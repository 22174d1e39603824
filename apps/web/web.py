"""The web tier: the page a learner opens at http://localhost:30080.

It follows the chain web -> api -> db on every request and shows who answered at each
hop, or which hop failed and why. GET /chain returns the same as JSON.
"""

from __future__ import annotations

import html
import json
import os
import urllib.error
import urllib.request

from service import serve, whoami

API_URL = os.environ.get("API_URL", "http://api:8080").rstrip("/")


def _get(path: str) -> dict:
    try:
        with urllib.request.urlopen(API_URL + path, timeout=3) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        try:
            return {"error": f"HTTP {error.code}", **json.load(error)}
        except ValueError:
            return {"error": f"HTTP {error.code}"}
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return {"error": f"{API_URL}{path}: {reason}"}


def chain() -> dict:
    """Each hop: who answered, or the error that stopped the chain there."""
    hops = [{"hop": "web", **whoami("web")}]
    api = _get("/whoami")
    hops.append({"hop": "api", "url": API_URL, **api})
    if "error" not in api:
        db = _get("/db")
        hops.append({"hop": "db", **db})
        if "error" not in db:
            hops.append({"hop": "visits", **_get("/visits")})
    failed = next((h["hop"] for h in hops if "error" in h), None)
    return {"ok": failed is None, "failed_hop": failed, "hops": hops}


def page(_request):
    result = chain()
    rows = "".join(
        f"<tr class={'bad' if 'error' in hop else 'good'}><td>{html.escape(hop['hop'])}</td>"
        f"<td>{html.escape(hop.get('error') or hop.get('pod') or hop.get('ip') or str(hop.get('visits', '')))}</td></tr>"
        for hop in result["hops"])
    verdict = ("web &rarr; api &rarr; db: every hop answered" if result["ok"]
               else f"the chain breaks at the {html.escape(result['failed_hop'])} hop")
    status = 200 if result["ok"] else 502
    return status, f"""<!doctype html><title>firstapp</title>
<style>body{{font-family:sans-serif;margin:2em}} .good td{{color:#060}} .bad td{{color:#b00}}</style>
<h1>{verdict}</h1><table><tr><th>hop</th><th>answered by</th></tr>{rows}</table>"""


if __name__ == "__main__":
    serve({
        ("GET", "/"): page,
        ("GET", "/chain"): lambda _r: (200, chain()),
        ("GET", "/whoami"): lambda _r: (200, whoami("web")),
        ("GET", "/healthz"): lambda _r: (200, {"ok": True}),
    })
