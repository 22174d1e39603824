"""Asks a DNS server for a name's A records: `dns-query.py SERVER NAME` prints the
addresses and exits 0, or exits 1. up.sh uses it to see CoreDNS answer through its
Service IP, the way pods will (the host has no dig)."""

import random
import socket
import struct
import sys


def query(server: str, name: str, timeout: float = 1.0) -> list[str]:
    ident = random.randrange(1 << 16)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, 53))
        reply = sock.recv(4096)
    answer_id, flags, _, answers = struct.unpack(">HHHH", reply[:8])
    if answer_id != ident or flags & 0x000F:
        return []
    offset = 12 + len(question) + 4
    addresses = []
    for _ in range(answers):
        offset += 2 if reply[offset] & 0xC0 == 0xC0 else reply.index(b"\0", offset) + 1 - offset
        kind, _, _, length = struct.unpack(">HHIH", reply[offset:offset + 10])
        offset += 10
        if kind == 1 and length == 4:
            addresses.append(socket.inet_ntoa(reply[offset:offset + 4]))
        offset += length
    return addresses


if __name__ == "__main__":
    try:
        found = query(sys.argv[1], sys.argv[2])
    except OSError:
        found = []
    print(" ".join(found))
    sys.exit(0 if found else 1)
