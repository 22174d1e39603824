"""The api tier: answers for itself and reads/writes the db tier (Redis).

GET /whoami, /healthz; GET /readyz is 503 while Redis is unreachable, so the api drops
out of its Service's endpoints; GET /db pings Redis and names who answered;
GET /kv/<key> and PUT /kv/<key> read and write a value; GET /visits counts visits.
"""

from __future__ import annotations

import os

from redis_client import RedisError, command
from service import serve, whoami

DB_ADDR = os.environ.get("DB_ADDR", "db:6379")


def _db(*args: str) -> tuple[object, str]:
    return command(DB_ADDR, *args)


def ready(_request):
    try:
        _db("PING")
    except (OSError, RedisError) as error:
        return 503, {"ready": False, "db": DB_ADDR, "error": str(error)}
    return 200, {"ready": True}


def db(_request):
    try:
        reply, peer = _db("PING")
    except (OSError, RedisError) as error:
        return 503, {"tier": "db", "address": DB_ADDR, "error": f"{type(error).__name__}: {error}"}
    return 200, {"tier": "db", "address": DB_ADDR, "ip": peer, "reply": reply}


def get_key(request):
    key = request.path.rsplit("/", 1)[1]
    value, _ = _db("GET", key)
    return (200, {"key": key, "value": value}) if value is not None else (404, {"key": key, "error": "not set"})


def put_key(request):
    key = request.path.rsplit("/", 1)[1]
    _db("SET", key, request.body().decode("utf-8", "replace"))
    return 200, {"key": key, "stored": True}


def visits(_request):
    count, _ = _db("INCR", "visits")
    return 200, {"visits": count}


if __name__ == "__main__":
    serve({
        ("GET", "/whoami"): lambda _r: (200, {**whoami("api"), "db": DB_ADDR}),
        ("GET", "/healthz"): lambda _r: (200, {"ok": True}),
        ("GET", "/readyz"): ready,
        ("GET", "/db"): db,
        ("GET", "/visits"): visits,
        ("GET", "/kv/*"): get_key,
        ("PUT", "/kv/*"): put_key,
    })
