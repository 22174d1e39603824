"""The browser check: JupyterLab in Debian's headless Chromium, lesson 3 run up to its
decision #3 widget, web switched from ClusterIP to NodePort with a click, and the YAML
preview seen to change (to the learner's choice only: no selector, port or nodePort). A
screenshot is saved under reports/browser/; the server and browser come from conftest.py."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.cluster
WIDGET_CELL = 5  # lesson 3: the cell that shows the designer (0-based, markdown included)

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install -e .[test])")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


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
