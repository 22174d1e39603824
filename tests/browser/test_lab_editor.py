"""The browser check of a lab, end to end: checkpoint 1 opened in JupyterLab in headless
Chromium, its editor shown with line numbers, the missing db Pod typed into the editor,
Apply pressed WITHOUT saving, and the result table read: full marks, and the file on
disk now holds what was typed. A screenshot is saved under reports/browser/."""

from __future__ import annotations

import time

import pytest

from course import applying
from firstapp.lab import LAB_LABEL
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import REPO

pytestmark = pytest.mark.cluster
NOTEBOOK = "labs/checkpoint-1.ipynb"
FILE = REPO / "labs" / "checkpoint-1" / "pods.yaml"
NAMESPACE = "lab-checkpoint-1"
EDITOR_CELL = 1  # the cell that shows the editor (0-based, markdown included)
DB_POD = """
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  labels: {app: db}
spec:
  containers:
    - name: db
      image: firstapp/db:1.0
      imagePullPolicy: IfNotPresent
      ports:
        - {name: redis, containerPort: 6379}"""


@pytest.fixture
def learners_file(cluster):
    """The lab's file as shipped, put back afterwards; the lab's objects removed before and after."""
    original = FILE.read_bytes()
    applying.prune(cluster, NAMESPACE, f"{LAB_LABEL}=checkpoint-1", keep=())
    yield FILE
    FILE.write_bytes(original)
    applying.prune(cluster, NAMESPACE, f"{LAB_LABEL}=checkpoint-1", keep=(), wait=0)


def test_typing_into_the_lab_editor_and_applying_without_saving_shows_the_grade(jupyterlab, browser, learners_file):
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    base, token = jupyterlab
    starter = learners_file.read_text()
    browser.get(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    wait = WebDriverWait(browser, 240, poll_frequency=0.5, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: "Idle" in d.find_element(By.ID, "jp-main-statusbar").text)
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell").click() or True)
    time.sleep(1)
    for _ in range(EDITOR_CELL + 1):
        webdriver.ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        time.sleep(0.3)
    try:
        editor = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".firstapp-editor textarea"))
        gutter = browser.find_element(By.CSS_SELECTOR, ".firstapp-gutter textarea")
        lines = starter.count("\n") + 1
        assert editor.get_attribute("value") == starter
        assert gutter.get_attribute("value").split("\n") == [str(n) for n in range(1, lines + 1)]

        apply = browser.find_element(By.XPATH, "//button[normalize-space()='Apply']")
        apply.click()  # the starter as it is: the db checks fail, each with its first hint
        summary = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".firstapp-summary"))
        assert "visible checks: 6/8 passed" in summary.text
        table = browser.find_element(By.CSS_SELECTOR, ".firstapp-result").text
        assert "db-image" in table and "hint 1/3" in table
        browser.execute_script("arguments[0].scrollIntoView()", summary)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / "lab-checkpoint-1-starter.png"))

        editor.click()
        editor.send_keys(Keys.CONTROL, Keys.END)
        editor.send_keys(DB_POD)
        wait.until(lambda d: gutter.get_attribute("value").endswith(f"\n{lines + DB_POD.count(chr(10))}"))
        assert learners_file.read_text() == starter  # typed, not saved
        time.sleep(1)  # the last keystrokes reach the kernel
        apply.click()

        wait.until(lambda d: "8/8" in d.find_element(By.CSS_SELECTOR, ".firstapp-summary").text
                   or "6/8" not in d.find_element(By.CSS_SELECTOR, ".firstapp-summary").text)
        summary = browser.find_element(By.CSS_SELECTOR, ".firstapp-summary")
        browser.execute_script("arguments[0].scrollIntoView()", summary)
        assert "visible checks: 8/8 passed" in summary.text, browser.find_element(By.CSS_SELECTOR, ".jp-Notebook").text
        table = browser.find_element(By.CSS_SELECTOR, ".firstapp-result").text
        assert "db-pod-healthy" in table and "fail" not in table
        assert learners_file.read_text() == starter + DB_POD  # Apply saved what it applied
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOTS / "lab-checkpoint-1-editor.png"))
