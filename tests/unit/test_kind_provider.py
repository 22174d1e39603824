"""The kind path's pure parts: the cluster config maps every port the course uses (kind
cannot add them later) and pins the node image, images are built for one platform and
loaded as one archive under fixed tags, and old or missing tools are named with the fix.
The kind path itself runs in tests/kind/ (the kind phase of ./run-tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from course.model import IMAGES
from course.paths import course_home
from firstapp.providers import kind
from firstapp.providers.base import ProviderUnavailable


def test_cluster_config_maps_every_course_port_on_loopback():
    config = yaml.safe_load((course_home() / kind.CONFIG).read_text())
    assert config["name"] == kind.CLUSTER_NAME == "firstapp"
    node = config["nodes"][0]
    mappings = {(m["containerPort"], m["hostPort"], m["listenAddress"]) for m in node["extraPortMappings"]}
    assert mappings == {(30080, 30080, "127.0.0.1"), (80, 80, "127.0.0.1"), (443, 443, "127.0.0.1")}
    assert node["labels"]["ingress-ready"] == "true"


def test_images_are_built_for_one_platform_and_loaded_as_one_archive():
    commands = kind.build_commands(course_home(), "linux/arm64")
    assert [c[c.index("-t") + 1] for c in commands] == ["firstapp/web:1.0", "firstapp/api:1.0", "firstapp/db:1.0"]
    for command in commands:
        assert command[:4] == ["docker", "build", "--platform", "linux/arm64"]
        assert not command[command.index("-t") + 1].endswith(":latest")
        assert Path(command[command.index("-f") + 1]).is_file()
    save, load = kind.load_commands(Path("/tmp/images.tar"))
    assert save == ["docker", "save", "-o", "/tmp/images.tar", *IMAGES]
    assert load == ["kind", "load", "image-archive", "/tmp/images.tar", "--name", "firstapp"]


def test_create_uses_the_config_and_the_node_image_override():
    config = str(course_home() / kind.CONFIG)
    assert kind.create_command(course_home()) == ["kind", "create", "cluster", "--name", "firstapp", "--config",
                                                  config, "--wait", "180s"]
    assert kind.create_command(course_home(), "firstapp.local/kind-node:x")[-4:] == \
        ["--image", "firstapp.local/kind-node:x", "--wait", "180s"]


def test_the_config_pins_kind_v0_30_s_node_image_of_kubernetes_1_34_by_digest():
    for config in (kind.CONFIG, Path("k8s/kind/class-cluster.yaml")):
        (node,) = yaml.safe_load((course_home() / config).read_text())["nodes"]
        assert node["image"].startswith("kindest/node:v1.34.0@sha256:")


@pytest.mark.parametrize(("tool", "found", "minimum", "verdict"), [
    ("kind", "kind v0.30.0 go1.26.8 linux/amd64", (0, 30, 0), None),
    ("kind", "kind v0.31.2 go1.25 darwin/arm64", (0, 30, 0), None),
    ("kind", "kind v0.23.0 go1.22 linux/amd64", (0, 30, 0), "kind 0.23.0 is too old: the course needs 0.30.0"),
    ("Docker", "20.10.24+dfsg1", (20, 10, 0), None),
    ("Docker", "19.03.8", (20, 10, 0), "Docker 19.03.8 is too old: the course needs 20.10.0"),
    ("Docker", "unknown-dev", (20, 10, 0), "Docker: cannot tell its version from 'unknown-dev'"),
])
def test_old_tools_are_named_with_what_to_upgrade(tool, found, minimum, verdict):
    message = kind.too_old(tool, found, minimum, "how")
    if verdict is None:
        assert message is None
    else:
        assert message.startswith(verdict) and message.endswith("(how)"), message


def test_a_port_that_answers_is_taken_and_a_closed_one_is_not():
    import socket
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert kind.taken(port)
    assert not kind.taken(port)


def test_a_tool_that_is_missing_or_hangs_is_named_with_the_fix(monkeypatch):
    def missing(command, **_):
        raise FileNotFoundError(command[0])

    def hangs(command, **_):
        raise subprocess.TimeoutExpired(command, 30)

    monkeypatch.setattr(kind.subprocess, "run", missing)
    with pytest.raises(ProviderUnavailable, match=r"kind is not installed; see https://kind\.sigs\.k8s\.io"):
        kind.KindProvider().check_tools()
    monkeypatch.setattr(kind.subprocess, "run", hangs)
    with pytest.raises(ProviderUnavailable, match="did not answer within 30 s"):
        kind.KindProvider().status()
