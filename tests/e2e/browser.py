"""A headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright.

Nothing here downloads a browser (no `playwright install`): the tests use the system's
Chromium, and skip when there is none, unless CI demands one (INSIGHTBOARDS_REQUIRE_BROWSER=1,
set by .ci/run, as INSIGHTBOARDS_REQUIRE_POSTGRES is for PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")

# Root needs --no-sandbox. The machines have no internet access: the rest stops Chromium's
# own background connections (updates, sync, field trials, QUIC), which would only be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    """The system's Chromium, or None; CI demands one (.ci/run)."""
    found = shutil.which("chromium") or (str(DEBIAN_CHROMIUM) if DEBIAN_CHROMIUM.exists() else None)
    if found is None and os.environ.get("INSIGHTBOARDS_REQUIRE_BROWSER") == "1":
        raise RuntimeError(
            f"Chromium is required (INSIGHTBOARDS_REQUIRE_BROWSER=1) but neither `chromium` on "
            f"PATH nor {DEBIAN_CHROMIUM} exists; install Debian's chromium package"
        )
    return found


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    """A launched headless Chromium, closed afterwards; skips the test when there is none."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip(
            f"no Chromium (`chromium` on PATH or {DEBIAN_CHROMIUM}); apt-get install chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
