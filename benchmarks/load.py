"""Load test: the served app under concurrent browser sessions, then a soak of many worlds.

``python -m benchmarks.load`` runs ``streamlit run app.py`` on 127.0.0.1 (one server,
:func:`testkit.browser.served_app`) and drives it with headless Debian Chromium through
Playwright for Python (never a browser download). Nothing but localhost is contacted;
every wait has a timeout and the server is stopped at the end.

Phases, one after another on the same server:

1. **default**: one page on the bare address (the default world), its exact charts,
   then *Fit with NUTS (nutpie)* with the default settings (this fit waits for the
   server's background compile of the default model). The server's resident memory
   over this phase is "the app serving the default world" (target: under 1 GB).
2. **load**: ``--sessions`` readers at once: one Chromium, one browser context (its own
   Streamlit session) each, driven concurrently with Playwright's async API. Half open
   one shared link (the *shared world*), half a distinct world each (other seeds and
   sample counts). Every page waits for its exact charts; once all are drawn and the
   server has gone quiet, all press *Fit* together (a barrier) and wait until the page says
   "Charts show NUTS" and the charts are drawn. Each page is checked to show its own
   world: the "World:" line names its seed and sample counts, the address bar still
   holds the page's link, and no exception box is shown.
   *Fitted once*: every fit shows its own timings (compile, sample and total seconds,
   the total to 10 ms). Pages of one cached ``FitResult`` show the same timings; two
   fits, even run side by side, practically never do (the distinct worlds' fingerprints
   are reported to show that they differ). So the shared world was fitted once when all
   its pages show one fingerprint, no distinct world shows it, and a fresh page on the
   shared link afterwards shows that same fit at once, without pressing *Fit* (a hit in
   the server's shared cache).
3. **soak**: ``--soak`` distinct worlds one after another in one page (a new session per
   world; method ``exact`` so each is quick; seeds, task counts, sample counts and
   feature counts all vary), each checked for its seed and its drawn charts. The
   server's memory is reported at the start, every 50 worlds and at the end.

The server's resident memory (the process and its children, :func:`resident_memory_mb`)
is sampled every 0.2 s in a background thread for the whole run.

The distinct worlds of the load phase keep the default's model shape (4 features, two
tasks of 65 to 128 rows): they share its compiled model, so the phase measures serving
and sampling, not a compile per world (``python -m benchmarks`` measures compiles).

Output: a table on stdout and ``benchmarks/results/load.json``. Exit status 1 when a
check failed.

Examples::

    python -m benchmarks.load                 # 10 sessions, 200 soak worlds (15-20 min)
    python -m benchmarks.load --quick         # 4 sessions, 20 soak worlds (about 4 min)
    python -m benchmarks.load --soak 50       # a shorter soak
    python -m benchmarks.load --cold --seeds-only --sessions 30 --soak 5
        # issue 9: from `streamlit run` on empty disk caches to the first NUTS result,
        # then thirty students on one link, each fitting their own seed at once

Run time: the browsers share the server's machine, and on a 2-core box the client is
the bottleneck. A page load costs headless Chromium about 4-6 CPU seconds (Streamlit's
frontend and seven Vega charts) against 1.1-1.6 s of the server's, so a 200-world soak
takes about 13-15 min, and 10 pages opened at once take 1.5-2 min to draw.
``--browsers-nice 10`` runs the browsers after phase 1 at that niceness, so that the
server gets the CPU first, as when the browsers run on the students' own machines (one
30-session run: 0.35 s server CPU per fit against 0.25 s at 0: no better, and slower).
    python -m benchmarks.load --sessions 12 --soak 300
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from hierdash.scenario import Scenario
from testkit.browser import (
    chromium_path,
    drawn_charts,
    launch,
    resident_memory_mb,
    served_app,
    wait_for_app_idle,
    wait_for_charts,
)

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "load.json"

N_CHARTS = 7  # parent, child, shrinkage, pull, rmse, padding, scales
MEMORY_LIMIT_MB = 1024.0  # the default world must be served in under 1 GB resident
SAMPLE_EVERY_S = 0.2
VIEWPORT = {"width": 1400, "height": 1000}
FIT_BUTTON = "Fit with NUTS (nutpie)"
NUTS_SHOWN = "Charts show NUTS"
EXACT_SHOWN = "Charts show the exact"  # posterior (closed form) or reference posterior (quadrature)

PAGE_TIMEOUT_MS = 360_000  # a page load, its exact charts (30 Chromiums on 2 cores: 170-250 s)
FIT_TIMEOUT_MS = 300_000  # a fit, the first one waiting for the server's compile
BARRIER_TIMEOUT_S = 400.0
PHASE_TIMEOUT_S = 900.0

# The shared world and the distinct ones: NUTS with small draws. All keep the default
# world's model shape (4 features, 2 tasks, 65-128 rows per task) so that one compiled
# model serves them all.
SHARED = Scenario(method="nuts", draws=300, tune=300, seed=2024)
DISTINCT_SAMPLES = [(100, 80), (120, 90), (70, 110), (128, 65), (90, 128), (110, 75),
                    (80, 100), (95, 95)]

TIME_LINE = re.compile(r"Time: compile ([\d.]+) s, sample ([\d.]+) s, ([\d.]+) s in all")
WORLD_LINE = re.compile(r"World:[^\n]*?seed (\d+)\.")


# ---------------------------------------------------------------------------
# Memory of the server, sampled in the background
# ---------------------------------------------------------------------------
class MemorySampler:
    """Samples the server's resident memory every ``every`` seconds until stopped."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY_S):
        self.pid = pid
        self.every = every
        self.t0 = time.perf_counter()
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.now()
            self._stop.wait(self.every)

    def now(self) -> float:
        """Sample once, record it and return it (MB)."""
        mb = resident_memory_mb(self.pid)
        if mb > 0:  # 0 once the process is gone
            self.samples.append((time.perf_counter() - self.t0, mb))
        return mb

    def clock(self) -> float:
        return time.perf_counter() - self.t0

    def peak(self, start: float = 0.0, end: float = float("inf")) -> float:
        inside = [mb for t, mb in self.samples if start <= t <= end]
        return max(inside) if inside else float("nan")


def wait_until_quiet(pid: int, *, timeout: float = 600.0) -> float:
    """Seconds until the server used under 0.1 s of CPU in 2 s (its warm-up is done)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        before = cpu_seconds(pid)
        time.sleep(2.0)
        if cpu_seconds(pid) - before < 0.1:
            break
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# Page helpers (sync Playwright; each thread has its own)
# ---------------------------------------------------------------------------
def link(url: str, scenario: Scenario | None) -> str:
    return url if scenario is None else f"{url}/?{urlencode(scenario.to_query())}"


def body_text(page) -> str:
    return page.inner_text("body")


def exceptions_shown(page) -> int:
    return page.locator("[data-testid='stException']").count()


def wait_for_text(page, text: str, timeout_ms: int) -> None:
    page.wait_for_function(
        "(text) => document.body && document.body.innerText.includes(text)",
        arg=text, timeout=timeout_ms,
    )


def open_world(page, url: str, scenario: Scenario | None) -> float:
    """Open a world and wait for its drawn charts; return the seconds it took."""
    start = time.perf_counter()
    page.goto(link(url, scenario), timeout=PAGE_TIMEOUT_MS)
    wait_for_app_idle(page, timeout_ms=PAGE_TIMEOUT_MS)
    wait_for_charts(page, N_CHARTS, timeout_ms=PAGE_TIMEOUT_MS)
    return time.perf_counter() - start


def press_fit_and_wait(page) -> float:
    """Press Fit, wait for the NUTS charts; return the seconds from click to charts."""
    start = time.perf_counter()
    page.get_by_role("button", name=FIT_BUTTON).click(timeout=PAGE_TIMEOUT_MS)
    wait_for_text(page, NUTS_SHOWN, FIT_TIMEOUT_MS)
    wait_for_app_idle(page, timeout_ms=FIT_TIMEOUT_MS)
    wait_for_charts(page, N_CHARTS, timeout_ms=FIT_TIMEOUT_MS)
    return time.perf_counter() - start


def fingerprint(text: str) -> str | None:
    """The fit's timings as shown ("compile a s, sample b s, c s in all")."""
    match = TIME_LINE.search(text)
    return None if match is None else "/".join(match.groups())


def world_problems(text: str, address: str, n_exceptions: int,
                   scenario: Scenario | None) -> list[str]:
    """Problems with what a page shows for ``scenario`` (empty when it is right), from
    its text, its address and its count of exception boxes."""
    expected = scenario or Scenario()
    problems = []
    match = WORLD_LINE.search(text)
    if match is None:
        problems.append("no 'World:' line")
    elif int(match.group(1)) != expected.seed:
        problems.append(f"World line names seed {match.group(1)}, expected {expected.seed}")
    counts = expected.samples
    shown = (f"with {counts[0]} samples" if len(set(counts)) == 1
             else "with " + ", ".join(map(str, counts[:12])))
    if match is not None and shown not in match.group(0):
        problems.append(f"World line lacks the sample counts ({shown!r})")
    query = {k: v[-1] for k, v in parse_qs(urlsplit(address).query).items()}
    wanted = expected.to_query()
    if query != wanted:
        differ = sorted(k for k in set(query) | set(wanted) if query.get(k) != wanted.get(k))
        problems.append(f"address bar differs from the link in {differ}")
    if n_exceptions:
        problems.append("an exception is shown")
    return problems


def check_world(page, scenario: Scenario | None) -> list[str]:
    """:func:`world_problems` of a (sync) page."""
    return world_problems(body_text(page), page.url, exceptions_shown(page), scenario)


# ---------------------------------------------------------------------------
# Phase 1: the default world
# ---------------------------------------------------------------------------
def default_phase(url: str, memory: MemorySampler) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    start = memory.clock()
    before = memory.now()
    cpu0 = cpu_seconds(memory.pid)
    out: dict[str, Any] = {"rss_before_mb": round(before, 1)}
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            out["exact_charts_s"] = round(open_world(page, url, None), 2)
            out["exact_shown"] = EXACT_SHOWN in body_text(page)
            out["rss_exact_mb"] = round(memory.now(), 1)
            out["nuts_charts_s"] = round(press_fit_and_wait(page), 2)
            out["charts"] = drawn_charts(page)
            text = body_text(page)
            out["fingerprint"] = fingerprint(text)
            out["problems"] = check_world(page, None)
            out["rss_after_fit_mb"] = round(memory.now(), 1)
        finally:
            browser.close()
    out["rss_peak_mb"] = round(memory.peak(start, memory.clock()), 1)
    out["server_cpu_s"] = round(cpu_seconds(memory.pid) - cpu0, 1)
    out["under_1gb"] = out["rss_peak_mb"] < MEMORY_LIMIT_MB
    return out


# ---------------------------------------------------------------------------
# Phase 2: concurrent sessions
# ---------------------------------------------------------------------------
def session_worlds(n: int, *, seeds_only: bool = False,
                   outcomes: bool = False) -> list[tuple[str, Scenario]]:
    """``n`` sessions: the first half on the shared world, the rest each on its own.

    With ``seeds_only``, every session has the shared world's tasks and sample counts
    but a seed of its own: a class handed one link, each student on their own seed.
    With ``outcomes``, every session has a world of its own, spread evenly over the
    outcome families (Gaussian, yes/no, binomial, Poisson; their page defaults): every
    family's compiled model serves at once.
    """
    if outcomes:
        families = ("gaussian", "bernoulli", "binomial", "poisson")
        return [("distinct", SHARED.replace(seed=101 + i) if families[i % 4] == "gaussian"
                 else Scenario.for_outcome(families[i % 4], method="nuts", draws=300,
                                           tune=300, seed=101 + i)) for i in range(n)]
    if seeds_only:
        return [("distinct", SHARED.replace(seed=101 + i)) for i in range(n)]
    shared = (n + 1) // 2
    worlds = [("shared", SHARED) for _ in range(shared)]
    for i in range(n - shared):
        samples = DISTINCT_SAMPLES[i % len(DISTINCT_SAMPLES)]
        worlds.append(("distinct", SHARED.replace(seed=101 + i, samples=samples)))
    return worlds


# The concurrent phase uses Playwright's async API: one Chromium, one browser context
# (a separate session, cookies and all) per reader, all driven at once. These waits
# are the async twins of testkit.browser's wait_for_app_idle / wait_for_charts /
# drawn_charts (same conditions).
_IDLE_JS = "() => !document.querySelector(\"[data-testid='stStatusWidget']\")"
_DRAWN_JS = """(count) => Array.from(document.querySelectorAll('.vega-embed')).filter(el => {
        const g = el.querySelector('canvas, svg');
        if (!g) return false;
        const r = g.getBoundingClientRect();
        return r.width > 20 && r.height > 20;
    }).length >= count"""
_COUNT_JS = _DRAWN_JS.replace("(count) =>", "() =>").replace(".length >= count", ".length")


async def _idle_and_drawn(page, timeout_ms: int) -> int:
    await page.wait_for_selector(".vega-embed, [data-testid='stAlert']", timeout=timeout_ms)
    await page.wait_for_function(_IDLE_JS, timeout=timeout_ms)
    await page.wait_for_function(_DRAWN_JS, arg=N_CHARTS, timeout=timeout_ms)
    return await page.evaluate(_COUNT_JS)


async def _session(browser, index: int, group: str, scenario: Scenario, url: str,
                   barrier, out: dict[str, Any], mark) -> None:
    """One reader: open the world, wait for the others, press Fit, check the page."""
    import asyncio

    out.update(session=index, group=group, outcome=scenario.outcome, seed=scenario.seed,
               samples=list(scenario.samples), problems=[])
    context = await browser.new_context(viewport=VIEWPORT)
    waited = False
    try:
        page = await context.new_page()
        t0 = time.perf_counter()
        await page.goto(link(url, scenario), timeout=PAGE_TIMEOUT_MS)
        await _idle_and_drawn(page, PAGE_TIMEOUT_MS)
        out["exact_charts_s"] = round(time.perf_counter() - t0, 2)
        if EXACT_SHOWN not in await page.inner_text("body"):
            out["problems"].append("the exact charts were not shown first")
        waited = True
        barrier.arrive()
        await asyncio.wait_for(barrier.wait(), BARRIER_TIMEOUT_S)
        mark("click")
        clicked = time.perf_counter()
        out["clicked_at"] = clicked  # made relative to the first click below
        await page.get_by_role("button", name=FIT_BUTTON).click(timeout=PAGE_TIMEOUT_MS)
        try:
            await page.wait_for_function(
                "(text) => document.body.innerText.includes(text)", arg=NUTS_SHOWN,
                timeout=FIT_TIMEOUT_MS)
        except Exception:
            # What the page showed instead: a fit's progress, an error, the exact charts.
            out["page_at_timeout"] = _fit_state(await page.inner_text("body"))
            raise
        out["charts"] = await _idle_and_drawn(page, FIT_TIMEOUT_MS)
        done = time.perf_counter()
        mark("drawn")
        out["fit_charts_s"] = round(done - clicked, 2)
        out["total_s"] = round(done - t0, 2)
        if out["charts"] < N_CHARTS:
            out["problems"].append(f"only {out['charts']} charts drawn")
        text = await page.inner_text("body")
        out["fingerprint"] = fingerprint(text)
        world = WORLD_LINE.search(text)
        out["world_line"] = world.group(0) if world else None
        n_exceptions = await page.locator("[data-testid='stException']").count()
        out["problems"] += world_problems(text, page.url, n_exceptions, scenario)
    except Exception as err:  # noqa: BLE001 - recorded, reported, and the run fails
        out["problems"].append(f"{type(err).__name__}: {str(err).splitlines()[0][:200]}")
        if not waited:  # let the others go on
            barrier.arrive()
    finally:
        await context.close()


class _StartLine:
    """Every session presses Fit at once: each arrives once, a failed one without
    waiting. (An ``asyncio.Barrier`` whose failed waiter gave up after a timeout broke
    every session of a run with "IndexError: list index out of range".)

    When the last one arrives, ``settle`` (a blocking function, run in a thread) runs
    before anyone may go: the server finishes the opening pages' work first, so that
    the CPU counted from the first click is the fits' own.
    """

    def __init__(self, parties: int, settle=None):
        import asyncio

        self._left = parties
        self._settle = settle
        self._all_here = asyncio.Event()

    def arrive(self) -> None:
        import asyncio

        self._left -= 1
        if self._left == 0:
            asyncio.get_running_loop().create_task(self._open())

    async def _open(self) -> None:
        import asyncio

        try:
            if self._settle is not None:
                await asyncio.to_thread(self._settle)
        finally:
            self._all_here.set()

    async def wait(self) -> None:
        await self._all_here.wait()


def _fit_state(text: str) -> str:
    """The lines of a page's text that say where its fit is (for a timed-out session)."""
    keys = ("Fitting", "Waiting", "Sampling", "stopped", "failed", "error", "Error", "Fit with")
    return " | ".join(line.strip() for line in text.splitlines()
                      if any(k in line for k in keys))[:400]


async def _all_sessions(url: str, worlds: list[tuple[str, Scenario]],
                        results: list[dict[str, Any]], mark, settle=None) -> None:
    import asyncio

    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await launch(pw)  # testkit.browser.launch works with either API
        try:
            barrier = _StartLine(len(worlds), settle)
            await asyncio.wait_for(
                asyncio.gather(*(
                    _session(browser, i, group, sc, url, barrier, results[i], mark)
                    for i, (group, sc) in enumerate(worlds)
                )),
                PHASE_TIMEOUT_S,
            )
        finally:
            await browser.close()


class _FitProfile:
    """py-spy on the server from the first Fit click to the phase's end (``--profile``)."""

    def __init__(self, pid: int, path: Path | None):
        self.pid, self.path, self._proc = pid, path, None

    def start(self) -> None:
        import shutil
        import subprocess

        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if self.path is None or self._proc is not None or not Path(spy).exists():
            return
        self._proc = subprocess.Popen(
            [spy, "record", "--pid", str(self.pid), "--nonblocking", "--rate", "100",
             "--format", "raw", "--output", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        import signal

        if self._proc is not None:
            self._proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            self._proc.wait(timeout=60)


def load_phase(url: str, memory: MemorySampler, n_sessions: int, *,
               seeds_only: bool = False, outcomes: bool = False,
               profile: Path | None = None) -> dict[str, Any]:
    import asyncio

    from playwright.sync_api import sync_playwright

    worlds = session_worlds(n_sessions, seeds_only=seeds_only, outcomes=outcomes)
    results: list[dict[str, Any]] = [{} for _ in worlds]
    start = memory.clock()
    cpu0 = cpu_seconds(memory.pid)
    marks: dict[str, float] = {}
    profiler = _FitProfile(memory.pid, profile)

    def mark(event: str) -> None:
        # The server's CPU when every page is open, before any Fit ("click"), and when
        # the last session to see its fit drew its charts ("drawn").
        if event == "click":
            if "cpu" not in marks:
                profiler.start()
            marks.setdefault("cpu", cpu_seconds(memory.pid))
        else:
            marks["drawn_cpu"] = cpu_seconds(memory.pid)

    def settle() -> None:
        # Every page is drawn: the server's last work for them (messages still being
        # sent, their last runs) is the opening's, not the fits'.
        marks["settled_s"] = wait_until_quiet(memory.pid, timeout=120.0)

    t0 = time.perf_counter()
    try:
        asyncio.run(_all_sessions(url, worlds, results, mark, settle))
    except Exception as err:  # noqa: BLE001 - e.g. the phase's overall timeout
        for r in results:
            r.setdefault("problems", []).append(f"phase: {type(err).__name__}: {err}")
    profiler.stop()
    for i, (group, _sc) in enumerate(worlds):  # sessions that never started
        results[i].setdefault("session", i)
        results[i].setdefault("group", group)
        results[i].setdefault("problems", [])
    clicks = [r["clicked_at"] for r in results if "clicked_at" in r]
    for r in results:
        if "clicked_at" in r:
            r["clicked_at_s"] = round(r.pop("clicked_at") - min(clicks), 2)
    wall = time.perf_counter() - t0
    end = memory.clock()
    server_cpu = cpu_seconds(memory.pid) - cpu0

    # Fitted once: one fingerprint on every shared page, a different one on each
    # distinct world, and a fresh page on the shared link shows that fit unasked.
    shared = [r for r in results if r["group"] == "shared"]
    distinct = [r for r in results if r["group"] == "distinct"]
    shared_prints = {r.get("fingerprint") for r in shared}
    distinct_prints = [r.get("fingerprint") for r in distinct]
    fresh: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            fresh["charts_s"] = round(open_world(page, url, SHARED), 2)
            text = body_text(page)
            fresh["shows_nuts_without_fit"] = NUTS_SHOWN in text
            fresh["fingerprint"] = fingerprint(text)
        except Exception as err:  # noqa: BLE001
            fresh["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
        finally:
            browser.close()
    fitted_once = not shared or (
        len(shared_prints) == 1 and None not in shared_prints
        and bool(fresh.get("shows_nuts_without_fit"))
        and fresh.get("fingerprint") in shared_prints
    )
    # Supporting evidence that a fingerprint tells fits apart (a chance collision of two
    # distinct fits' timings, to 10 ms each, is possible but rare: reported, not failed).
    distinct_all_differ = (
        None not in distinct_prints and len(set(distinct_prints)) == len(distinct_prints)
    )
    unlike_shared = not (set(distinct_prints) & shared_prints)
    return {
        "sessions": results,
        "n_sessions": len(results),
        "n_shared": len(shared),
        "n_distinct": len(distinct),
        "shared_world": SHARED.to_query(),
        "wall_s": round(wall, 2),
        "server_cpu_s": round(server_cpu, 1),
        # Each session opens its page (exact charts) and fits once: this is the
        # server's CPU per student, page and fit together.
        "server_cpu_per_session_s": round(server_cpu / max(len(results), 1), 3),
        # Split at the moment every page was open: opening the pages, then the fits
        # (each fit, its progress, the page's rerun with the fitted charts).
        "server_cpu_opening_s": round(marks.get("cpu", float("nan")) - cpu0, 1),
        # How long the server took to go quiet once every page was drawn (the clicks
        # wait for it; the CPU meanwhile counts as opening).
        "server_settled_before_clicks_s": round(marks.get("settled_s", float("nan")), 1),
        "server_cpu_per_fit_s": round((server_cpu - (marks.get("cpu", float("nan")) - cpu0))
                                      / max(sum("clicked_at_s" in r for r in results), 1), 3),
        # The same, but only until the last fit's charts were drawn: a session that never
        # sees its charts keeps the phase open for its whole timeout, and the open
        # sessions' background traffic in that time is no fit's.
        "server_cpu_per_fit_until_drawn_s": round(
            (marks.get("drawn_cpu", float("nan")) - marks.get("cpu", float("nan")))
            / max(sum("fit_charts_s" in r for r in results), 1), 3),
        "click_spread_s": round(max(clicks) - min(clicks), 2) if clicks else None,
        "rss_peak_mb": round(memory.peak(start, end), 1),
        "shared_fitted_once": {
            "verified": fitted_once and unlike_shared,
            "shared_fingerprints": sorted(p or "missing" for p in shared_prints),
            "distinct_fingerprints": [p or "missing" for p in distinct_prints],
            "distinct_fingerprints_all_differ": distinct_all_differ,
            "fresh_page_on_shared_link": fresh,
            "how": "Each fit shows its own timings ('Time: compile a s, sample b s, c s in "
                   "all', c to 10 ms). All shared pages show one such fingerprint (one "
                   "cached FitResult), the distinct worlds' fingerprints all differ (two "
                   "fits never share one), and a fresh page on the shared link shows the "
                   "NUTS charts with that same fingerprint without pressing Fit (a hit "
                   "in the server's shared cache).",
        },
    }


# ---------------------------------------------------------------------------
# Phase 3: soak
# ---------------------------------------------------------------------------
def soak_world(i: int) -> Scenario:
    """The i-th soak world: distinct seed; tasks, sample counts and features vary."""
    n_tasks = 1 + (i * 7) % 12
    samples = tuple(3 + (i * 13 + j * 29) % 150 for j in range(n_tasks))
    return Scenario(method="exact", seed=50_000 + i, samples=samples,
                    n_features=1 + (i * 5) % 8, noise_sd=0.5 + (i % 9) * 0.5,
                    child_spread=0.2 + (i % 7) * 0.4, draws=200)


def soak_phase(url: str, memory: MemorySampler, n_worlds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    start = memory.clock()
    series = [{"worlds": 0, "rss_mb": round(memory.now(), 1)}]
    times: list[float] = []
    failures: list[dict[str, Any]] = []
    cpu0 = cpu_seconds(memory.pid)
    t0 = time.perf_counter()
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            for i in range(n_worlds):
                scenario = soak_world(i)
                try:
                    times.append(open_world(page, url, scenario))
                    problems = check_world(page, scenario)
                    if drawn_charts(page) < N_CHARTS:
                        problems.append("charts missing")
                except Exception as err:  # noqa: BLE001 - recorded; the soak goes on
                    problems = [f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"]
                if problems:
                    failures.append({"world": i, "seed": scenario.seed, "problems": problems})
                done = i + 1
                if done % 50 == 0 or done == n_worlds:
                    series.append({"worlds": done, "rss_mb": round(memory.now(), 1),
                                   "elapsed_s": round(time.perf_counter() - t0, 1)})
                    print(f"  soak: {done:4d} worlds, server {series[-1]['rss_mb']:.0f} MB, "
                          f"{series[-1]['elapsed_s']:.0f} s", flush=True)
        finally:
            browser.close()
    end = memory.clock()
    server_cpu = cpu_seconds(memory.pid) - cpu0
    return {
        "worlds": n_worlds,
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_per_world_s": round(server_cpu / max(n_worlds, 1), 2),
        "ok": n_worlds - len(failures),
        "failures": failures[:20],
        "wall_s": round(time.perf_counter() - t0, 1),
        "per_world_s": {"median": round(statistics.median(times), 2),
                        "max": round(max(times), 2)} if times else None,
        "rss_series": series,
        "rss_start_mb": series[0]["rss_mb"],
        "rss_end_mb": series[-1]["rss_mb"],
        "rss_growth_mb": round(series[-1]["rss_mb"] - series[0]["rss_mb"], 1),
        "rss_peak_mb": round(memory.peak(start, end), 1),
    }


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------
def print_report(report: dict[str, Any]) -> None:
    d = report["default_world"]
    print("\n== Default world (one page, exact then NUTS 2 x 1000/1000) ==")
    print(f"from `streamlit run` to the first NUTS result: {d.get('first_nuts_result_s')} s "
          f"(server up {d.get('server_start_s')} s; disk caches {d.get('disk_caches')})")
    print(f"exact charts {d.get('exact_charts_s')} s, NUTS charts {d.get('nuts_charts_s')} s "
          f"(incl. the server's first compile); server RSS before {d['rss_before_mb']} MB, "
          f"peak {d['rss_peak_mb']} MB -> under 1 GB: {d['under_1gb']} (server CPU {d['server_cpu_s']} s)")

    load = report["load"]
    print(f"\n== Load: {load['n_sessions']} concurrent sessions ({load['n_shared']} shared "
          f"world, {load['n_distinct']} distinct), clicks within {load['click_spread_s']} s ==")
    print(f"{'#':>2} {'group':8} {'seed':>5} {'samples':>9} {'exact s':>8} {'fit s':>7} "
          f"{'total s':>8} {'charts':>6}  fingerprint (compile/sample/total)  ok")
    for r in load["sessions"]:
        samples = ",".join(map(str, r.get("samples", [])))
        print(f"{r['session']:>2} {r['group']:8} {r.get('seed', ''):>5} {samples:>9} "
              f"{r.get('exact_charts_s', '-'):>8} {r.get('fit_charts_s', '-'):>7} "
              f"{r.get('total_s', '-'):>8} {r.get('charts', '-'):>6}  "
              f"{r.get('fingerprint') or '-':34}  {'yes' if not r['problems'] else r['problems']}")
    once = load["shared_fitted_once"]
    print(f"shared world fitted once: {once['verified']} (shared fingerprints "
          f"{once['shared_fingerprints']}; distinct all differ: "
          f"{once['distinct_fingerprints_all_differ']}; fresh page shows it without Fit: "
          f"{once['fresh_page_on_shared_link'].get('shows_nuts_without_fit')} with "
          f"{once['fresh_page_on_shared_link'].get('fingerprint')})")
    print(f"load phase {load['wall_s']} s (server CPU {load['server_cpu_s']} s, "
          f"{load['server_cpu_per_session_s']} s per session: its page and its fit; opening the "
          f"pages {load['server_cpu_opening_s']} s, then {load['server_cpu_per_fit_s']} s per "
          f"Fit pressed to the phase's end, {load['server_cpu_per_fit_until_drawn_s']} s per "
          f"fit seen until the last charts were drawn); server RSS "
          f"peak {load['rss_peak_mb']} MB")

    soak = report["soak"]
    print(f"\n== Soak: {soak['worlds']} distinct worlds one after another (exact) ==")
    print(f"{soak['ok']}/{soak['worlds']} ok; per world median "
          f"{(soak['per_world_s'] or {}).get('median')} s, max "
          f"{(soak['per_world_s'] or {}).get('max')} s; {soak['wall_s']} s in all; server CPU "
          f"{soak['server_cpu_per_world_s']} s per world")
    print("server RSS: " + ", ".join(f"{p['worlds']} worlds {p['rss_mb']:.0f} MB"
                                      for p in soak["rss_series"]))
    print(f"start {soak['rss_start_mb']} MB -> end {soak['rss_end_mb']} MB "
          f"({soak['rss_growth_mb']:+} MB); peak {soak['rss_peak_mb']} MB")

    print(f"\nServer RSS peak over the whole run: {report['rss_peak_mb']} MB; "
          f"total {report['total_s']} s; checks passed: {report['passed']}")
    out = Path(report["out"])
    print(f"written: {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10, help="concurrent browser sessions (default 10)")
    parser.add_argument("--soak", type=int, default=200, help="distinct worlds in the soak (default 200)")
    parser.add_argument("--quick", action="store_true", help="4 sessions, 20 soak worlds")
    parser.add_argument("--seeds-only", action="store_true",
                        help="every session on the same link's world with its own seed "
                             "(a class handed one link), none shared")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the report (default {OUT.name})")
    parser.add_argument("--outcomes", action="store_true",
                        help="every session a world of its own, spread over the outcome "
                             "families (Gaussian, yes/no, binomial, Poisson)")
    parser.add_argument("--cold", action="store_true",
                        help="serve with empty disk caches (a fresh PyTensor compiledir and "
                             "numba cache): the first fit waits for a cold compile")
    parser.add_argument("--browsers-nice", type=int, default=0, metavar="N",
                        help="run the browsers at this niceness (default 0: as before); in a "
                             "class they run on the students' own machines")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write py-spy's stacks of the server over the fits (raw "
                             "collapsed format) to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.soak = 4, 20
    if args.sessions < 2 or args.soak < 1:
        parser.error("--sessions must be at least 2 and --soak at least 1")
    if chromium_path() is None:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 2

    started = dt.datetime.now().isoformat(timespec="seconds")
    if args.cold:
        cold = Path(tempfile.mkdtemp(prefix="hierdash-cold-"))
        os.environ["PYTENSOR_FLAGS"] = f"base_compiledir={cold / 'pytensor'}"
        os.environ["NUMBA_CACHE_DIR"] = str(cold / "numba")
    t0 = time.perf_counter()
    with served_app() as (url, proc), MemorySampler(proc.pid) as memory:
        server_start_s = time.perf_counter() - t0
        print(f"server {url} (pid {proc.pid}) up in {server_start_s:.1f} s, "
              f"{memory.now():.0f} MB at start", flush=True)
        print("phase 1: the default world", flush=True)
        default = default_phase(url, memory)
        default["server_start_s"] = round(server_start_s, 2)
        # From `streamlit run` to the first NUTS result on the page.
        default["first_nuts_result_s"] = round(
            server_start_s + default.get("exact_charts_s", 0) + default.get("nuts_charts_s", 0), 1)
        default["disk_caches"] = "empty" if args.cold else "as found"
        # The start-up warm-up compiles the second (latent) model after the first NUTS
        # result: let it finish, so that the load phase's CPU is the sessions' own.
        default["server_settled_s"] = round(wait_until_quiet(proc.pid), 1)
        # From here on every process this one starts (Playwright's driver and the
        # browsers) inherits the niceness; the server, started before, keeps its own.
        if args.browsers_nice:
            os.nice(args.browsers_nice)
        print(f"phase 2: {args.sessions} concurrent sessions", flush=True)
        load = load_phase(url, memory, args.sessions, seeds_only=args.seeds_only,
                          outcomes=args.outcomes,
                          profile=args.profile)
        print(f"phase 3: soak of {args.soak} worlds", flush=True)
        soak = soak_phase(url, memory, args.soak)
        peak = memory.peak()
        series = memory.samples
    total = time.perf_counter() - t0

    passed = (
        default["under_1gb"] and not default["problems"] and default.get("charts", 0) >= N_CHARTS
        and all(not r["problems"] for r in load["sessions"])
        and load["shared_fitted_once"]["verified"]
        and soak["ok"] == soak["worlds"]
    )
    report = {
        "command": "python -m benchmarks.load " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": started,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "chromium": chromium_path(),
        "sessions": args.sessions,
        "browsers_nice": args.browsers_nice,
        "soak_worlds": args.soak,
        "default_world": default,
        "load": load,
        "soak": soak,
        "rss_peak_mb": round(peak, 1),
        "rss_samples": len(series),
        # The whole memory trace, thinned to one point a second.
        "rss_trace": [[round(t, 1), round(mb, 1)] for i, (t, mb) in enumerate(series)
                      if i % max(1, round(1 / SAMPLE_EVERY_S)) == 0],
        "total_s": round(total, 1),
        "passed": passed,
        "out": str(args.out),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
