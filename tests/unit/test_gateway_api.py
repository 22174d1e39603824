"""Where the kind provider takes the Gateway API's CRDs from: the pinned module on a Go
module proxy, checked against go.sum's hash before anything is kept. A proxy here is a
real HTTP server on 127.0.0.1 serving module zips made in the test."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.paths import course_home
from firstapp.providers import gateway_api
from firstapp.providers.base import ProviderUnavailable

VERSION = "v9.9.9"


def module_zip(version: str = VERSION, marker: str = "1") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in gateway_api.crd_paths(version):
            kind = path.rsplit("_", 1)[1].removesuffix(".yaml")
            archive.writestr(path, f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                                   f"metadata: {{name: {kind}.gateway.networking.k8s.io}}\n"
                                   f"spec: {{marker: '{marker}'}}\n")
        archive.writestr(f"{gateway_api.MODULE}@{version}/go.mod", f"module {gateway_api.MODULE}\n")
    return buffer.getvalue()


def course_pinning(home: Path, h1: str) -> Path:
    (home / gateway_api.VERSIONS).parent.mkdir(parents=True)
    (home / gateway_api.VERSIONS).write_text(f"KUBERNETES_VERSION=v1.34.4\nGATEWAY_API_VERSION={VERSION}\n")
    (home / gateway_api.GO_SUM).parent.mkdir(parents=True)
    (home / gateway_api.GO_SUM).write_text(f"{gateway_api.MODULE} {VERSION} {h1}\n"
                                           f"{gateway_api.MODULE} {VERSION}/go.mod h1:AAAA=\n")
    return home


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """A module proxy on 127.0.0.1 (GOPROXY names it): path -> body it serves."""
    served: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("GOPROXY", f"http://127.0.0.1:{server.server_address[1]},direct")
    yield served
    server.shutdown()


ZIP_PATH = f"/{gateway_api.MODULE}/@v/{VERSION}.zip"


def test_the_course_pins_a_release_and_its_hash():
    version, h1 = gateway_api.pinned(course_home())
    assert version.startswith("v1.") and h1.startswith("h1:") and len(h1) == 47


def test_the_first_proxy_of_goproxy_is_used(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GOPROXY", "https://goproxy.example/,https://proxy.golang.org,direct")
    assert gateway_api.proxy_url() == "https://goproxy.example"
    for unusable in ("direct", "off", ""):
        monkeypatch.setenv("GOPROXY", unusable)
        assert gateway_api.proxy_url() == "https://proxy.golang.org"


def test_the_module_hash_is_what_go_records_and_changes_with_any_byte():
    assert gateway_api.h1_of_zip(module_zip()) == gateway_api.h1_of_zip(module_zip())
    assert gateway_api.h1_of_zip(module_zip(marker="2")) != gateway_api.h1_of_zip(module_zip())


def test_checked_crds_are_kept_and_read_from_the_cache(proxy, tmp_path: Path):
    proxy[ZIP_PATH] = module_zip()
    home = course_pinning(tmp_path / "course", gateway_api.h1_of_zip(module_zip()))
    crds = gateway_api.crds(home, tmp_path / "cache")
    assert [crd["metadata"]["name"] for crd in crds] == [f"{kind}.gateway.networking.k8s.io"
                                                         for kind in gateway_api.KINDS]
    del proxy[ZIP_PATH]  # the second time, the proxy is not asked
    assert gateway_api.crds(home, tmp_path / "cache") == crds


def test_a_module_whose_hash_differs_is_refused_and_nothing_is_kept(proxy, tmp_path: Path):
    proxy[ZIP_PATH] = module_zip(marker="tampered")
    pinned_h1 = gateway_api.h1_of_zip(module_zip())
    home = course_pinning(tmp_path / "course", pinned_h1)
    with pytest.raises(ProviderUnavailable) as refused:
        gateway_api.crds(home, tmp_path / "cache")
    assert pinned_h1 in str(refused.value) and "nothing was installed" in str(refused.value)
    assert not (tmp_path / "cache").exists()


def test_an_unreachable_proxy_is_named_with_the_fix(proxy, tmp_path: Path):
    home = course_pinning(tmp_path / "course", gateway_api.h1_of_zip(module_zip()))
    with pytest.raises(ProviderUnavailable) as refused:
        gateway_api.crds(home, tmp_path / "cache")  # the proxy answers 404
    assert ZIP_PATH in str(refused.value) and "fix:" in str(refused.value)
