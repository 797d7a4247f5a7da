"""Headless Chromium for portal tests: a phone-sized page, axe-core, screenshots as artefacts.

Import into a test module::

    from vaarwater.portal.tests.browser_fixtures import phone, artefacts, axe_check  # noqa: F401

Screenshots go to ``$VAARWATER_ARTEFACTS`` (default ``var/test-artefacts``) under ``portal/``,
one PNG per page and language, so a reviewer can look at every page at phone width.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("VAARWATER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 sized viewport
# axe-core rules to run: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


@pytest.fixture
def artefacts() -> Path:
    root = Path(os.environ.get("VAARWATER_ARTEFACTS", "var/test-artefacts")) / "portal"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def phone():
    """A Playwright page in Debian's Chromium at phone width, Dutch locale."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the ORM calls in the test are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, locale="nl-NL", device_scale_factor=1, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page; return its serious and critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def axe_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return "\n".join(lines)


class PageChecks:
    """Screenshot a page, scan it with axe-core and check it fits the phone; keep what axe
    found per page (``problems``) so that a test can report them all at the end."""

    def __init__(self, page, artefacts: Path, prefix: str, language: str):
        self.page, self.artefacts = page, artefacts
        self.prefix, self.language = prefix, language
        self.problems: dict[str, str] = {}

    def __call__(self, name: str) -> None:
        shot = self.artefacts / f"{self.prefix}-{name}-{self.language}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        found = axe_violations(self.page)
        if found:
            self.problems[name] = axe_report(found)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name}: the page is {width}px wide on a 390px phone"

    def report(self) -> str:
        return "\n".join(f"{name}:\n{found}" for name, found in self.problems.items())
