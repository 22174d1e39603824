"""The kind path: the generated cluster config has every port mapping DESIGN.md asks
for (kind cannot add them later), and images are built and loaded under fixed tags."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from course.model import IMAGES
from course.paths import course_home
from firstapp.providers import docker_usable, kind


def test_cluster_config_maps_every_course_port_on_loopback():
    config = yaml.safe_load((course_home() / kind.CONFIG).read_text())
    assert config["name"] == kind.CLUSTER_NAME == "firstapp"
    node = config["nodes"][0]
    mappings = {(m["containerPort"], m["hostPort"], m["listenAddress"]) for m in node["extraPortMappings"]}
    assert mappings == {(30080, 30080, "127.0.0.1"), (80, 80, "127.0.0.1"), (443, 443, "127.0.0.1")}
    assert node["labels"]["ingress-ready"] == "true"


def test_build_and_load_commands_use_fixed_tags_and_existing_dockerfiles():
    commands = kind.build_commands(course_home())
    builds = [c for c in commands if c[:2] == ["docker", "build"]]
    loads = [c for c in commands if c[:3] == ["kind", "load", "docker-image"]]
    assert [c[3] for c in builds] == [c[3] for c in loads] == ["firstapp/web:1.0", "firstapp/api:1.0", "firstapp/db:1.0"]
    for command in builds:
        assert not command[3].endswith(":latest")
        dockerfile = command[command.index("-f") + 1]
        assert Path(dockerfile).is_file(), dockerfile
    assert kind.create_command(course_home())[-4:] == ["--config", str(course_home() / kind.CONFIG), "--wait", "180s"]


@pytest.mark.skipif(not docker_usable(), reason="kind path not run: no usable Docker daemon and kind binary here")
def test_kind_builds_and_loads_the_images():
    provider = kind.KindProvider()
    provider.up()
    provider.load_images()
    listed = subprocess.run(["docker", "exec", f"{kind.CLUSTER_NAME}-control-plane", "crictl", "images"],
                            capture_output=True, text=True, check=True).stdout
    for image in IMAGES:
        assert image.split(":")[0] in listed
