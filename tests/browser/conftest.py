"""Fixtures for the browser tests: one headless Chromium per session, and the folder the
screenshots are kept in.

Without Chromium the tests skip, saying how to install it, unless
``CLOUDRATE_REQUIRE_BROWSER=1`` is set (``.ci/run`` sets it): then they fail, so that CI can
never skip them silently. ``CLOUDRATE_TEST_ARTEFACTS`` names the screenshots' folder;
without it they go under pytest's temporary directory. Either way the run ends by saying
where they are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.browser import _chromium

_ARTEFACTS = pytest.StashKey[Path]()


def _unavailable(reason: str) -> None:
    if os.environ.get(_chromium.REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{reason}, and {_chromium.REQUIRE_VARIABLE}=1 requires it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[_chromium.Chromium]:
    """A headless Chromium for the session, with the fonts the PDF renderer ships."""
    pytest.importorskip("jinja2", reason="the HTML invoice needs the 'html' extra (jinja2)")
    from cloudrate.invoice.render import font_directories

    executable = _chromium.find_executable()
    if executable is None:
        _unavailable(
            "no Chromium here: `apt-get install -y chromium` (Debian), or set "
            f"{_chromium.EXECUTABLE_VARIABLE} to a Chromium or Chrome binary"
        )
        raise AssertionError("unreachable")  # skip and fail raise
    try:
        browser = _chromium.Chromium(executable, font_dirs=font_directories())
    except _chromium.BrowserError as exc:
        _unavailable(f"Chromium ({executable}) did not start: {exc}")
        raise AssertionError("unreachable") from exc
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def artefacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the screenshots are written to (``CLOUDRATE_TEST_ARTEFACTS``)."""
    named = os.environ.get(_chromium.ARTEFACTS_VARIABLE)
    folder = Path(named) if named else tmp_path_factory.mktemp("browser-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[_ARTEFACTS] = folder.resolve()
    return folder


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    folder = terminalreporter.config.stash.get(_ARTEFACTS, None)
    if folder is not None:
        shots = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"browser screenshots ({shots} PNG): {folder}")
