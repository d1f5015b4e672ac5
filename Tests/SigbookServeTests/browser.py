"""Drives the served page in a real headless Chromium (Selenium + chromedriver).

Usage: browser.py URL FIGURES_FOLDER SCREENSHOT_FOLDER LONG_CELL
Prints one JSON object with what it saw; exits non-zero (with the reason) when a check fails.
"""
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.support.ui import WebDriverWait

url, figures_folder, shots, long_cell = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(shots, exist_ok=True)
options = Options()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1700"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# A generous limit on every wait: a broken page fails instead of hanging; no speed is measured.
waiter = WebDriverWait(driver, 300, poll_frequency=0.05)
seen = {}


def check(condition, message):
    if not condition:
        driver.save_screenshot(os.path.join(shots, "failure.png"))
        print(json.dumps({"failed": message, **seen}))
        driver.quit()
        sys.exit(1)


class Wait:
    """WebDriverWait's until, which on a time-out says what the page showed (and keeps a
    screenshot) instead of an empty message."""

    def until(self, condition):
        try:
            return waiter.until(condition)
        except TimeoutException:
            try:
                page = {"state": state_text(), "cells": cells(),
                        "problem": driver.find_element(By.ID, "problem").text,
                        "progress": [p.text for p in
                                     driver.find_elements(By.CSS_SELECTOR, ".progress")]}
            except Exception as error:  # the page itself may be gone
                page = {"page": str(error)}
            check(False, "timed out waiting at browser.py:%d; the page: %s" % (
                sys._getframe(1).f_lineno, json.dumps(page)))


wait = Wait()


def cells():
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('section.cell'))"
        ".map(s => [s.dataset.status, Number(s.dataset.runs)])")


def state_text():
    return driver.find_element(By.ID, "state").text


def figures():
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('figure[data-figure] img'))"
        ".map(i => [i.alt, i.getAttribute('src'), i.complete && i.naturalWidth > 0,"
        " Number(i.closest('section.cell').dataset.cell)])")


def idle_and_fresh(_):
    return state_text().startswith("idle") and all(s == "fresh" for s, _ in cells())


def images_loaded(_):
    return all(loaded for _, _, loaded, _ in figures())


def save(name):
    path = os.path.join(shots, name)
    driver.save_screenshot(path)
    return path


try:
    driver.get(url)
    wait.until(idle_and_fresh)
    wait.until(images_loaded)
    # Every figure the run wrote is on the page, and every one is a loaded image.
    on_disk = sorted(f for f in os.listdir(figures_folder) if f.endswith(".svg"))
    shown = sorted(alt for alt, _, _, _ in figures())
    seen["figures_on_disk"] = on_disk
    seen["figures_shown"] = shown
    check(on_disk == shown and len(shown) >= 7, "the page does not show every figure")
    # Nothing was loaded from another origin.
    origins = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
    check(all(o == origins[0] for o in origins), "a resource came from another origin")
    seen["screenshot_before"] = save("before.png")
    before = cells()
    seen["runs_before"] = [r for _, r in before]
    sources_before = {alt: src for alt, src, _, _ in figures()}
    # Record every status each cell takes from now on.
    driver.execute_script("""
      window.sigbookSeen = [];
      const observer = new MutationObserver(ms => ms.forEach(m =>
        window.sigbookSeen.push(m.target.dataset.cell + ':' + m.target.dataset.status)));
      document.querySelectorAll('section.cell').forEach(s =>
        observer.observe(s, {attributes: true, attributeFilter: ['data-status']}));
    """)

    # Change the learning rate.
    field = driver.find_element(By.ID, "param-lr")
    field.clear()
    field.send_keys("0.02")
    driver.execute_script("arguments[0].blur()", field)
    wait.until(lambda d: cells()[1][1] == before[1][1] + 1)
    wait.until(idle_and_fresh)
    wait.until(images_loaded)
    after = cells()
    seen["runs_after"] = [r for _, r in after]
    transitions = driver.execute_script("return window.sigbookSeen")
    seen["transitions"] = transitions
    check(after[0][1] == before[0][1], "the data cell ran again")
    check(not any(t in ("1:stale", "1:running") for t in transitions),
          "the data cell was marked stale or ran")
    check(all(after[i][1] == before[i][1] + 1 for i in range(1, len(after))),
          "a cell that depends on lr did not run again")
    check("2:stale" in transitions or "2:running" in transitions, "cell 2 was never marked")
    check("7:stale" in transitions, "cell 7 was not marked stale while waiting")
    shown = figures()
    sources_after = {alt: src for alt, src, _, _ in shown}
    changed = sorted(a for a in sources_after if sources_after[a] != sources_before.get(a))
    seen["figures_updated"] = changed
    # Every figure of a cell that ran again is new; the data cell's (the sample grid) is not.
    rerun = sorted(alt for alt, _, _, cell in shown if cell != 1)
    check(all(a in changed for a in rerun), "a figure of a cell that ran again was not updated")
    check(all(cell != 1 or alt not in changed for alt, _, _, cell in shown),
          "a figure of the data cell changed though the cell did not run")
    seen["screenshot_after"] = save("after.png")

    # A long cell: tick `slow`, wait until it runs, press Stop.
    driver.find_element(By.ID, "param-slow").click()
    wait.until(lambda d: cells()[long_cell - 1][0] == "running")
    wait.until(lambda d: d.find_element(
        By.CSS_SELECTOR, "#cell-%d .progress" % long_cell).text.startswith("fit"))
    seen["progress"] = driver.find_element(By.CSS_SELECTOR, "#cell-%d .progress" % long_cell).text
    driver.execute_script("document.getElementById('cell-%d').scrollIntoView()" % long_cell)
    seen["screenshot_running"] = save("running.png")
    driver.find_element(By.ID, "stop").click()
    wait.until(lambda d: cells()[long_cell - 1][0] == "stopped")
    wait.until(lambda d: state_text().startswith("stopped"))
    stopped = cells()
    seen["state_after_stop"] = state_text()
    check(driver.find_element(By.ID, "stop").get_attribute("disabled") is not None,
          "Stop is still enabled")
    check(all(s == "fresh" for s, _ in stopped[:long_cell - 1]), "other cells lost their results")
    seen["screenshot_stopped"] = save("stopped.png")
    # The page recovers: untick `slow`, and the cell runs again, quickly, from the intact session.
    driver.find_element(By.ID, "param-slow").click()
    wait.until(idle_and_fresh)
    final = cells()
    seen["runs_final"] = [r for _, r in final]
    check(final[0][1] == before[0][1], "the data cell ran again")
    seen["state_final"] = state_text()
    seen["screenshot_recovered"] = save("recovered.png")
    print(json.dumps({"ok": True, **seen}))
finally:
    driver.quit()
