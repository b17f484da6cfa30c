"""Serve the app with ``streamlit run`` on localhost and open it in Debian's Chromium.

Shared by the browser tests and the load test. Chromium comes from Debian's packages
(``apt-get install chromium``), driven by Playwright for Python; never a browser
download.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "browser"
"""Where the browser tests leave their screenshots."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_app(port: int | None = None, *, timeout: float = 90.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app.py`` on 127.0.0.1; yields (url, process) once healthy."""
    port = port or free_port()
    log = open(ROOT / f".streamlit-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {(ROOT / f'.streamlit-{port}.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("streamlit did not become healthy")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        with contextlib.suppress(OSError):
            (ROOT / f".streamlit-{port}.log").unlink()


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


def wait_for_app_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the script has finished its run (Streamlit's status widget gone)."""
    # Content first (an empty shell has no status widget either), then the run's end.
    page.wait_for_selector(".vega-embed, [data-testid='stAlert']", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")",
        timeout=timeout_ms,
    )


def open_page(browser, url: str, *, timeout_ms: int = 120_000):
    """A new 1400 x 1000 page of ``browser`` at ``url``, once the app's run has ended."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url, timeout=timeout_ms)
    wait_for_app_idle(page, timeout_ms=timeout_ms)
    return page


def screenshot(page, name: str) -> Path:
    """A full-page screenshot in :data:`SHOTS` named ``name``, checked to be a real
    picture (over 10 kB), not a blank page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def wait_for_charts(page, count: int = 6, timeout_ms: int = 120_000) -> int:
    """Wait until at least ``count`` Vega charts are drawn; return how many are."""
    page.wait_for_function(
        """(count) => Array.from(document.querySelectorAll('.vega-embed')).filter(el => {
               const g = el.querySelector('canvas, svg');
               return g && g.getBoundingClientRect().width > 20;
           }).length >= count""",
        arg=count,
        timeout=timeout_ms,
    )
    return drawn_charts(page)


def drawn_charts(page) -> int:
    """Vega charts whose canvas or svg has a non-zero drawn size."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.vega-embed')).filter(el => {
               const g = el.querySelector('canvas, svg');
               if (!g) return false;
               const r = g.getBoundingClientRect();
               return r.width > 20 && r.height > 20;
           }).length"""
    )


def resident_memory_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024
