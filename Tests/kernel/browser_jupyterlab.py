"""A real front-end: JupyterLab in headless Chromium runs a sigbook notebook with the kernel.

Usage: browser_jupyterlab.py FOLDER SCREENSHOT_FOLDER
FOLDER holds fig.ipynb (a sigbook notebook whose cell draws `curve`); JUPYTER_PATH must find the
sigbook kernelspec. Starts `jupyter lab` on a free port of 127.0.0.1 with a random token, opens
the notebook, runs its cells, and waits for the figure's SVG in the page. Prints one JSON object
with what it saw; exits non-zero, keeping a screenshot, when a check fails.
Run by SigbookKernelTests (JupyterClientTests.jupyterLabShowsTheFigure).
"""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

folder, shots = sys.argv[1], sys.argv[2]
os.makedirs(shots, exist_ok=True)

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
token = secrets.token_hex(16)
server = subprocess.Popen(
    [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
     "--port=%d" % port, "--port-retries=0", "--ServerApp.root_dir=" + folder,
     "--IdentityProvider.token=" + token, "--LabApp.expose_app_in_browser=True",
     "--ServerApp.open_browser=False"] + (["--allow-root"] if os.geteuid() == 0 else []),
    cwd=folder, stdout=subprocess.DEVNULL, stderr=open(os.path.join(shots, "server.log"), "w"))
driver = None
seen = {}


def finish(code, message=None):
    if message is not None:
        seen["failed"] = message
        if driver is not None:
            driver.save_screenshot(os.path.join(shots, "failure.png"))
    print(json.dumps(seen))
    if driver is not None:
        driver.quit()
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
    sys.exit(code)


# The server is up once its API answers (a bound on the wait, not a timing).
base = "http://127.0.0.1:%d" % port
for _ in range(1200):
    try:
        urllib.request.urlopen(base + "/api/status?token=" + token, timeout=1)
        break
    except Exception:
        if server.poll() is not None:
            finish(1, "jupyter lab ended with status %d" % server.returncode)
        time.sleep(0.1)
else:
    finish(1, "jupyter lab did not answer")

options = Options()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,1000"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# A generous limit on every wait: a broken page fails instead of hanging; no speed is measured.
waiter = WebDriverWait(driver, 300, poll_frequency=0.1)


def until(what, condition):
    try:
        return waiter.until(condition)
    except TimeoutException:
        finish(1, "timed out waiting for " + what)


driver.get(base + "/lab/tree/fig.ipynb?token=" + token)
kernel_idle = """
const app = window.jupyterapp;
if (!app || !app.shell) return null;
const panel = app.shell.currentWidget;
if (!panel || !panel.sessionContext || !panel.sessionContext.session) return null;
const kernel = panel.sessionContext.session.kernel;
return kernel ? [kernel.name, kernel.status] : null;
"""
state = until("the sigbook kernel to start",
              lambda d: (lambda s: s if s and s[1] == "idle" else None)(
                  d.execute_script(kernel_idle)))
seen["kernel"] = state[0]
driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
svg = until("the figure in the page", lambda d: d.execute_script("""
const images = Array.from(document.querySelectorAll('.jp-OutputArea-output img, '
  + '.jp-OutputArea-output svg'));
const found = images.find(i => (i.tagName.toLowerCase() === 'svg')
  || ((i.getAttribute('src') || '').startsWith('data:image/svg+xml') && i.naturalWidth > 0));
if (!found) return null;
return found.tagName.toLowerCase() === 'svg' ? found.outerHTML.slice(0, 200)
  : decodeURIComponent(found.getAttribute('src')).slice(0, 200);
"""))
seen["svg"] = svg
seen["stdout"] = driver.execute_script(
    "return Array.from(document.querySelectorAll('.jp-OutputArea-output pre'))"
    ".map(p => p.textContent).join('\\n')")
seen["figure_file"] = os.path.exists(os.path.join(folder, "fig.figures", "curve.svg"))
if "<svg" not in svg:
    finish(1, "the figure is not SVG")
driver.save_screenshot(os.path.join(shots, "notebook.png"))
finish(0)
