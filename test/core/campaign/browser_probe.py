"""Open a page in headless Chromium and read back what it saw: console errors, window errors,
CSP violations, failed resource loads and every <img>'s natural size.

How: a copy of the page gets a small probe script (the report itself has none, and its CSP
forbids scripts, so the copy's CSP admits inline scripts) that records console.error calls,
window errors, CSP violations and failed resource loads, and after ``load`` writes them, with
every <img>'s naturalWidth/naturalHeight, into the DOM; Chromium dumps the DOM
(``--dump-dom``, ``--virtual-time-budget``) and its log (``--enable-logging=stderr``), whose
``CONSOLE`` lines from the page must be absent (the page logs nothing when all is well).

Chromium missing: the calling test is skipped, unless IFAGENT_REQUIRE_BROWSER=1 (then failed):
``make browser-deps`` installs it (``make test`` sets IFAGENT_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ifagent_ros.core.campaign.report_html import CSP

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

PROBE = """<script>
(function () {
  var errors = [];
  var original = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    errors.push(t && t !== window ? "failed to load <" + t.tagName + "> " +
                String(t.src || t.href || "").slice(0, 60) : "error: " + e.message);
  }, true);
  window.addEventListener("securitypolicyviolation", function (e) {
    errors.push("csp: " + e.violatedDirective + " " + e.blockedURI);
  });
  window.addEventListener("load", function () {
    var images = Array.prototype.map.call(document.images, function (i) {
      return {w: i.naturalWidth, h: i.naturalHeight, complete: i.complete,
              alt: i.getAttribute("alt")};
    });
    var out = document.createElement("pre");
    out.id = "__probe";
    out.textContent = JSON.stringify({errors: errors, images: images});
    document.body.appendChild(out);
  });
})();
</script>"""

PROBE_RESULT = re.compile(r'<pre id="__probe">(.*?)</pre>', re.S)


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    reason = "headless Chromium not installed (apt-get install chromium; make browser-deps)"
    if os.environ.get("IFAGENT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"IFAGENT_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _probe_copy(page: Path, out: Path) -> Path:
    text = page.read_text(encoding="utf-8")
    assert CSP in text, "the report lost its Content-Security-Policy"
    text = text.replace(CSP, CSP + "; script-src 'unsafe-inline'", 1)
    text = text.replace("<head>", "<head>" + PROBE, 1)
    out.write_text(text, encoding="utf-8")
    return out


def load_in_browser(page: Path, work: Path) -> tuple[dict, list[str]]:
    """(probe result, CONSOLE log lines about the page) of ``page`` opened in Chromium."""
    executable = browser()
    probed = _probe_copy(page, work / "probed.html")
    proc = subprocess.run(
        [executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={work / 'prof'}",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
         probed.as_uri()],
        capture_output=True, text=True, timeout=180, cwd=work,
        env={**os.environ, "HOME": str(work)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = PROBE_RESULT.search(proc.stdout)
    assert found, f"the probe did not run; stderr: {proc.stderr[-2000:]}"
    console = [ln for ln in proc.stderr.splitlines()
               if "CONSOLE" in ln and probed.name in ln]
    return json.loads(html.unescape(found.group(1))), console
