"""The browser checks' setting: a JupyterLab server on a free port of 127.0.0.1 over the
repository (the learner's session: no reference answers), and Debian's headless
Chromium driven by selenium. Screenshots go under reports/browser/."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO / "reports" / "browser"


def _needs_a_browser() -> None:
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("browser check not run: /usr/bin/chromium and /usr/bin/chromedriver are missing "
                    "(./run-tests installs them on Debian as root)")


@pytest.fixture
def jupyterlab(tmp_path):
    """(base URL, token) of a JupyterLab serving the repository, stopped afterwards."""
    _needs_a_browser()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={REPO}",
         f"--LabApp.user_settings_dir={tmp_path / 'settings'}", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        stdout=open(tmp_path / "jupyterlab.log", "w"), stderr=subprocess.STDOUT,
        env={**os.environ, "FIRSTAPP_LAB_ANSWERS": ""})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start: " + (tmp_path / "jupyterlab.log").read_text()[-2000:])
    yield base, token
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium, 1500x1100."""
    _needs_a_browser()
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", "--window-size=1500,1100", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    yield driver
    driver.quit()
