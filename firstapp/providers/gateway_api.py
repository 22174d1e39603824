"""The Gateway API's standard CRDs for a cluster the course does not build itself (kind):
taken from the same place as the local provider's, the module sigs.k8s.io/gateway-api on
the Go module proxy, at the version k8s/local/versions.env pins and checked against the
hash k8s/local/gomod/gateway-api/go.sum records (Go's "h1:" dirhash of the module zip),
so no Go toolchain is needed. Kept under the course's cache folder once checked."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

from firstapp.providers.base import ProviderUnavailable

MODULE = "sigs.k8s.io/gateway-api"
KINDS = ("gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants")  # what the local provider installs
VERSIONS = Path("k8s") / "local" / "versions.env"
GO_SUM = Path("k8s") / "local" / "gomod" / "gateway-api" / "go.sum"


def pinned(home: Path) -> tuple[str, str]:
    """(version, h1 hash of its module zip), as the course pins them."""
    version = re.search(r"^GATEWAY_API_VERSION=(\S+)", (home / VERSIONS).read_text(), re.M)
    if not version:
        raise ProviderUnavailable(f"{VERSIONS} does not pin GATEWAY_API_VERSION")
    found = re.search(rf"^{re.escape(MODULE)} {re.escape(version[1])} (h1:\S+)$", (home / GO_SUM).read_text(), re.M)
    if not found:
        raise ProviderUnavailable(f"{GO_SUM} records no hash of {MODULE} {version[1]}")
    return version[1], found[1]


def h1_of_zip(data: bytes) -> str:
    """Go's dirhash.Hash1 of a module zip: the SHA-256 of the sorted lines
    "<sha256 of a file>  <its name>", base64, after "h1:"."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(name for name in archive.namelist() if not name.endswith("/"))
        summary = "".join(f"{hashlib.sha256(archive.read(name)).hexdigest()}  {name}\n" for name in names)
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def crd_paths(version: str) -> list[str]:
    """The standard CRDs' paths inside the module zip."""
    return [f"{MODULE}@{version}/config/crd/standard/gateway.networking.k8s.io_{kind}.yaml" for kind in KINDS]


def proxy_url() -> str:
    """The first Go module proxy GOPROXY names (as the go command reads it), else the public one."""
    for entry in re.split(r"[,|]", os.environ.get("GOPROXY", "")):
        if entry.startswith(("https://", "http://")):
            return entry.rstrip("/")
    return "https://proxy.golang.org"


def crds(home: Path, cache: Path) -> list[dict[str, Any]]:
    """The CRD objects, downloaded and checked once, then read from `cache`."""
    import yaml

    version, wanted = pinned(home)
    kept = cache / f"gateway-api-crds-{version}"
    if not (kept / ".complete").exists():
        _download(version, wanted, kept)
    return [doc for kind in KINDS
            for doc in yaml.safe_load_all((kept / f"gateway.networking.k8s.io_{kind}.yaml").read_text()) if doc]


def _download(version: str, wanted: str, into: Path) -> None:
    url = f"{proxy_url()}/{MODULE}/@v/{version}.zip"
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            data = answer.read()
    except (urllib.error.URLError, OSError) as error:
        raise ProviderUnavailable(f"cannot download the Gateway API CRDs ({MODULE} {version}) from {url}: {error}\n"
                                  "    fix: check the network (or GOPROXY), then run `firstapp up` again") from error
    found = h1_of_zip(data)
    if found != wanted:
        raise ProviderUnavailable(f"{url}: the module's hash is {found}, {GO_SUM} pins {wanted}; nothing was installed")
    partial = into.with_name(into.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # what a run cut short left
    partial.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for path in crd_paths(version):
            (partial / Path(path).name).write_bytes(archive.read(path))
    (partial / ".complete").touch()
    shutil.rmtree(into, ignore_errors=True)
    partial.rename(into)
