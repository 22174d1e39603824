"""A minimal Redis client (RESP2 over a socket): enough for PING, GET, SET, INCR."""

from __future__ import annotations

import socket


class RedisError(Exception):
    pass


def command(address: str, *args: str, timeout: float = 2.0) -> tuple[object, str]:
    """Run one command against `host:port`; returns the reply and the peer IP answering."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        connection.sendall(payload.encode())
        reader = connection.makefile("rb")
        return _reply(reader), connection.getpeername()[0]


def _reply(reader) -> object:
    line = reader.readline()
    if not line:
        raise RedisError("connection closed")
    kind, rest = line[:1], line[1:].rstrip(b"\r\n")
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        return None if length < 0 else reader.read(length + 2)[:-2].decode()
    if kind == b"*":
        return [_reply(reader) for _ in range(int(rest))]
    raise RedisError(f"unexpected reply {line!r}")
