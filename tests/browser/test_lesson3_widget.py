"""The browser check: JupyterLab in Debian's headless Chromium, lesson 3 run up to its
decision #3 widget, web switched from ClusterIP to NodePort with a click, and the YAML
preview seen to change (to the learner's choice only: no selector, port or nodePort). A screenshot is saved under reports/browser/."""

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

pytestmark = pytest.mark.cluster
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
WIDGET_CELL = 5  # lesson 3: the cell that shows the designer (0-based, markdown included)
SCREENSHOTS = REPO / "reports" / "browser"

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("browser check not run: /usr/bin/chromium and /usr/bin/chromedriver are missing "
                "(./run-tests installs them on Debian as root)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def jupyterlab(tmp_path):
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
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-quic", "--window-size=1500,1100", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def test_switching_web_to_nodeport_changes_the_yaml_preview(jupyterlab, browser, cluster):
    base, token = jupyterlab
    browser.get(f"{base}/lab/tree/lessons/03-services.ipynb?token={token}")
    wait = WebDriverWait(browser, 240, poll_frequency=0.5, ignored_exceptions=(StaleElementReferenceException,))
    # The notebook re-renders while it loads and its kernel starts: act once the kernel is idle.
    wait.until(lambda d: "Idle" in d.find_element(By.ID, "jp-main-statusbar").text)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell").click() or True)
    time.sleep(1)
    for _ in range(WIDGET_CELL + 1):  # run the cells above the widget, then the widget's own
        webdriver.ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        time.sleep(0.3)
    try:
        preview = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".firstapp-yaml-preview textarea"))
        before = preview.get_attribute("value")
        assert "name: web\nspec:\n  type: ClusterIP" in before
        web_row = browser.find_element(By.XPATH, "//div[contains(@class,'widget-toggle-buttons')]"
                                                 "[.//label[normalize-space()='web']]")
        web_row.find_element(By.XPATH, ".//button[normalize-space()='NodePort']").click()
        wait.until(lambda d: "name: web\nspec:\n  type: NodePort" in preview.get_attribute("value"))
        after = preview.get_attribute("value")
        assert after != before and "nodePort:" not in after  # the learner's choice, never checkpoint 3's answer
        assert "reaches" in browser.find_element(By.CSS_SELECTOR, ".jp-Notebook").text
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / "lesson-3-widget.png"))
        cluster.delete_namespace("lesson-3", wait=0)
