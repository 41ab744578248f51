"""The report page in a real browser (headless Chromium): it loads with no console errors and
every plot image renders with a non-zero size. The probe is in browser_probe.py.
"""

from __future__ import annotations

from browser_probe import browser, load_in_browser
from run_factory import standard_run

from ifagent_ros.core.campaign.report import write_report
from ifagent_ros.core.campaign.report_html import CSP


def test_report_loads_without_errors_and_every_image_renders(tmp_path):
    browser()
    run = standard_run(tmp_path / "run")
    page = write_report(run).html_path
    expected_images = page.read_text().count("<img ")
    probe, console = load_in_browser(page, tmp_path)
    assert probe["errors"] == []
    assert console == []
    assert len(probe["images"]) == expected_images == 15
    empty = [img for img in probe["images"] if not (img["w"] > 0 and img["h"] > 0)]
    assert empty == []


def test_the_check_sees_broken_pages(tmp_path):
    """The harness must fail a page with a script error, a broken image and a blocked external
    image: otherwise the test above proves nothing."""
    browser()
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}"></head><body>'
        '<img src="data:image/png;base64,AAAA" alt="broken">'
        '<img src="http://example.invalid/x.png" alt="external">'
        '<script>console.error("boom");</script></body></html>', encoding="utf-8")
    probe, console = load_in_browser(page, tmp_path)
    text = "\n".join(probe["errors"])
    assert "console.error: boom" in text
    assert "csp: img-src" in text
    assert "failed to load <IMG>" in text
    assert [img["w"] for img in probe["images"]] == [0, 0]
    assert any("boom" in ln for ln in console)
