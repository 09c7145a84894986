"""A headless Chromium driven over the DevTools protocol on a pipe: no extra package.

Chromium started with ``--remote-debugging-pipe`` reads DevTools commands (JSON, each ended
by a NUL byte) on its file descriptor 3 and writes answers and events on descriptor 4; this
is what Playwright does too, without its 40 MB driver. One browser serves the whole test
session; each page is a new tab, laid out at the width asked for, measured with a script
and photographed.

The flags are those this machine needs as root (docs/rendering.md, "Checked in a real
browser"): no sandbox, no GPU, and no background networking, whose connections the closed
network refuses.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

#: Where Debian's ``chromium`` package puts the browser; ``CLOUDRATE_CHROMIUM`` overrides.
DEFAULT_EXECUTABLE = "/usr/bin/chromium"
EXECUTABLE_VARIABLE = "CLOUDRATE_CHROMIUM"
REQUIRE_VARIABLE = "CLOUDRATE_REQUIRE_BROWSER"
ARTEFACTS_VARIABLE = "CLOUDRATE_TEST_ARTEFACTS"

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
)

_TIMEOUT = 30.0  # seconds for any one answer; a page here loads in well under one

#: Measures the page: its visible text, its width and every element whose box leaves the
#: screen (``LIMIT`` CSS pixels wide) on the left or the right, named by tag, id, classes
#: and the start of its text.
MEASURE = r"""
((limit) => {
  const vw = window.innerWidth;
  const name = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    for (const c of el.classList) s += "." + c;
    const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ");
    return text ? s + " " + JSON.stringify(text.slice(0, 40)) : s;
  };
  const wide = [];
  for (const el of document.querySelectorAll("body, body *")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > Math.min(vw, limit) + 0.5 || r.left < -0.5)
      wide.push({element: name(el), left: r.left, right: r.right});
  }
  return {
    innerWidth: vw,
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    text: document.body.innerText,
    wide: wide,
  };
})(LIMIT)
"""


class BrowserError(Exception):
    """Chromium did not start, or did not answer a DevTools command."""


@attrs.frozen
class Measured:
    """What :data:`MEASURE` found on a page laid out *width* CSS pixels wide."""

    width: int
    inner_width: int
    scroll_width: int
    scroll_height: int
    text: str
    wide: tuple[Mapping[str, Any], ...]


def find_executable() -> str | None:
    """The Chromium to run: ``CLOUDRATE_CHROMIUM``, Debian's ``/usr/bin/chromium``, or one
    on the PATH; ``None`` when there is none."""
    named = os.environ.get(EXECUTABLE_VARIABLE)
    if named:
        return named
    if Path(DEFAULT_EXECUTABLE).is_file():
        return DEFAULT_EXECUTABLE
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _fontconfig(folder: Path, font_dirs: tuple[Path, ...]) -> Path:
    """A fontconfig file adding *font_dirs* (the fonts the ``pdf`` extra ships) to the
    machine's fonts, so that the page shows in the fonts the PDF uses, CJK included."""
    dirs = "".join(f"<dir>{d}</dir>" for d in font_dirs)
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"{dirs}<cachedir>{folder / 'fontcache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return path


class Chromium:
    """One headless Chromium process and its DevTools pipe; :meth:`close` ends it."""

    def __init__(self, executable: str, *, font_dirs: tuple[Path, ...] = ()) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="cloudrate-chromium-"))
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict[str, Any]] = []
        env = dict(os.environ)
        env["FONTCONFIG_FILE"] = str(_fontconfig(self._folder, font_dirs))
        profile = self._folder / "profile"
        profile.mkdir()
        self._log = self._folder / "chromium.log"
        commands_r, self._commands = os.pipe()
        self._answers, answers_w = os.pipe()
        # High, close-on-exec copies, so that the moves to 3 and 4 below cannot clash.
        child_r = fcntl.fcntl(commands_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(answers_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(commands_r)
        os.close(answers_w)
        log = os.open(self._log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        try:
            self._pid = os.posix_spawn(
                executable,
                [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, null, 0),
                    (os.POSIX_SPAWN_DUP2, log, 1),
                    (os.POSIX_SPAWN_DUP2, log, 2),
                    (os.POSIX_SPAWN_DUP2, child_r, 3),
                    (os.POSIX_SPAWN_DUP2, child_w, 4),
                ],
                setpgroup=0,  # its own process group: close() ends its helpers too
            )
        except OSError as exc:
            shutil.rmtree(self._folder, ignore_errors=True)
            raise BrowserError(f"{executable}: could not start: {exc}") from exc
        finally:
            for fd in (child_r, child_w, log, null):
                os.close(fd)
        try:
            version = self.call("Browser.getVersion")
        except BrowserError:
            self.close()
            raise
        self.version: str = version["product"]

    # -- the protocol ------------------------------------------------------------------

    def call(
        self, method: str, params: Mapping[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        """Send one command and return its result; events met on the way are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method}
        if params:
            message["params"] = dict(params)
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read()
            if answer.get("id") != self._next_id:
                self._events.append(answer)
                continue
            if "error" in answer:
                raise BrowserError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer.get("result", {})
            return result

    def wait_for(self, event: str, session: str) -> dict[str, Any]:
        """The next event *event* of *session* (already received, or still to come)."""
        while True:
            for i, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    del self._events[i]
                    params: dict[str, Any] = message.get("params", {})
                    return params
            self._events.append(self._read())

    def _read(self) -> dict[str, Any]:
        deadline = time.monotonic() + _TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._answers], [], [], max(left, 0))
            if not ready:
                raise BrowserError(f"no answer from Chromium in {_TIMEOUT:.0f} s; {self._tail()}")
            chunk = os.read(self._answers, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium closed its DevTools pipe; {self._tail()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def _tail(self) -> str:
        try:
            lines = self._log.read_text(errors="replace").splitlines()[-5:]
        except OSError:
            lines = []
        return "its log ends: " + " | ".join(lines) if lines else "it logged nothing"

    # -- pages -------------------------------------------------------------------------

    def render(
        self, page: Path, width: int, *, screenshot: Path, phone: bool, height: int = 800
    ) -> Measured:
        """Open *page* in a new tab *width* CSS pixels wide (a phone's screen when *phone*:
        the page's viewport meta tag applies), wait for it and its fonts to load, measure
        it, and write a PNG of the whole page to *screenshot*."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        try:
            session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            self.call("Page.enable", session=session)
            self.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone},
                session,
            )
            self.call("Page.navigate", {"url": page.resolve().as_uri()}, session)
            self.wait_for("Page.loadEventFired", session)
            found = self.call(
                "Runtime.evaluate",
                {
                    "expression": "document.fonts.ready.then(() => "
                    + MEASURE.replace("LIMIT", str(width))
                    + ")",
                    "awaitPromise": True,
                    "returnByValue": True,
                },
                session,
            )
            if "exceptionDetails" in found:
                raise BrowserError(f"the measuring script failed: {found['exceptionDetails']}")
            value = found["result"]["value"]
            shot = self.call(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {
                        "x": 0,
                        "y": 0,
                        "width": min(max(width, value["scrollWidth"]), 4 * width),
                        "height": min(max(height, value["scrollHeight"]), 16_000),
                        "scale": 1,
                    },
                },
                session,
            )
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            self.call("Target.closeTarget", {"targetId": target})
        return Measured(
            width=width,
            inner_width=value["innerWidth"],
            scroll_width=value["scrollWidth"],
            scroll_height=value["scrollHeight"],
            text=value["text"],
            wide=tuple(value["wide"]),
        )

    def close(self) -> None:
        """End Chromium (its whole process group), reap it and delete its profile."""
        for fd in (self._commands, self._answers):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.waitpid(self._pid, os.WNOHANG) != (0, 0):
                break
            time.sleep(0.05)
        else:
            os.killpg(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
        shutil.rmtree(self._folder, ignore_errors=True)
