"""Does one user's compile freeze everyone else's page?

Compiling a model for a new shape (another feature count, say) takes seconds of
PyTensor graph rewriting and Numba code generation inside the server process, and
much of that holds Python's GIL. This benchmark measures what that does to the other
users of the same server, two ways:

1. **in process** (``--no-browser`` runs only this): the work a control change asks of
   the server (simulate a new world, its exact posterior and tidy tables: ``fit`` with
   ``method="exact"``) and a warm NUTS fit of another world are timed over and over,
   first alone (baseline), then while another thread compiles a model of a new shape.
   It reports the latencies' median, 95th percentile and maximum in both phases.
2. **in the browser**: ``streamlit run app.py`` and headless Debian Chromium. Page B
   opens one distinct world after another and times each until its charts are drawn,
   first alone, then while page A's *Fit* compiles a model of a new feature count. The
   time from A's click to A's NUTS charts is reported too.

A page is "frozen" when its latencies during the compile grow to the compile's own
length; slower by a fraction means the server's two cores are shared, not frozen.
Output: a table on stdout and ``benchmarks/results/contention.json``.

Examples::

    python -m benchmarks.contention
    python -m benchmarks.contention --no-browser
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _stats(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"n": 0}
    arr = np.asarray(latencies)
    return {
        "n": int(arr.size),
        "median_s": float(np.median(arr)),
        "p95_s": float(np.quantile(arr, 0.95)),
        "max_s": float(arr.max()),
    }


def _loop(work, stop: threading.Event, out: list[float]) -> None:
    i = 0
    while not stop.is_set():
        start = time.perf_counter()
        work(i)
        out.append(time.perf_counter() - start)
        i += 1


def in_process(baseline_s: float, new_features: int) -> dict[str, Any]:
    """Latencies of other users' work alone and during a compile of a new shape."""
    from hierdash.inference import fit, prepare, warm_up
    from hierdash.model import NUTPIE_CACHE, model_key
    from hierdash.scenario import Scenario

    def control_change(i: int) -> None:
        fit(Scenario(method="exact", seed=1000 + i, samples=(100, 40 + i % 50)))

    def warm_nuts(i: int) -> None:
        fit(Scenario(method="nuts", seed=2000 + i))

    warm_up(Scenario())  # the default model, as the app warms it at start-up
    fit(Scenario(method="nuts", seed=1))
    new = Scenario(n_features=new_features)
    key = model_key(new, prepare(new).padded)
    if key in NUTPIE_CACHE:
        raise SystemExit(f"the {new_features}-feature model is already compiled")

    out: dict[str, Any] = {}
    for name, work in (("control_change", control_change), ("warm_nuts", warm_nuts)):
        alone: list[float] = []
        stop = threading.Event()
        t = threading.Thread(target=_loop, args=(work, stop, alone))
        t.start()
        time.sleep(baseline_s)
        stop.set()
        t.join()
        out[f"{name}_alone"] = _stats(alone)

    # Both kinds of users at once while the compile runs, as on a busy server.
    during: dict[str, list[float]] = {"control_change": [], "warm_nuts": []}
    stop = threading.Event()
    users = [threading.Thread(target=_loop, args=(work, stop, during[name]))
             for name, work in (("control_change", control_change), ("warm_nuts", warm_nuts))]
    for t in users:
        t.start()
    time.sleep(0.5)
    start = time.perf_counter()
    compile_s = warm_up(new)
    wall = time.perf_counter() - start
    stop.set()
    for t in users:
        t.join()
    out["compile_s"] = compile_s
    out["compile_wall_s"] = wall
    for name, latencies in during.items():
        out[f"{name}_during_compile"] = _stats(latencies)
    return out


def in_browser(new_features: int, pages: int) -> dict[str, Any]:
    """Page B's time to charts alone and while page A's Fit compiles a new shape."""
    from playwright.sync_api import sync_playwright

    from benchmarks.load import (
        FIT_BUTTON,
        FIT_TIMEOUT_MS,
        N_CHARTS,
        NUTS_SHOWN,
        PAGE_TIMEOUT_MS,
        link,
        open_world,
        wait_for_text,
    )
    from hierdash.scenario import Scenario
    from tests.browser import launch, served_app, wait_for_app_idle, wait_for_charts

    def world(i: int) -> Scenario:
        return Scenario(method="exact", seed=500 + i, samples=(90 + i, 70))

    result: dict[str, Any] = {}
    with served_app() as (url, _server), sync_playwright() as pw:
        browser = launch(pw)
        page_b = browser.new_context().new_page()
        open_world(page_b, url, world(0))  # the frontend's first load, not measured
        result["b_alone"] = _stats([open_world(page_b, url, world(1 + i)) for i in range(pages)])

        page_a = browser.new_context().new_page()
        a_world = Scenario(method="nuts", n_features=new_features, seed=3)
        page_a.goto(link(url, a_world), timeout=PAGE_TIMEOUT_MS)
        wait_for_app_idle(page_a, timeout_ms=PAGE_TIMEOUT_MS)
        wait_for_charts(page_a, 6, timeout_ms=PAGE_TIMEOUT_MS)
        clicked = time.perf_counter()
        # Click A (the server starts compiling at once), then load B's pages while it runs.
        page_a.get_by_role("button", name=FIT_BUTTON).click(timeout=PAGE_TIMEOUT_MS)
        during = []
        for i in range(pages):
            during.append(open_world(page_b, url, world(100 + i)))
        # A finishes: its NUTS charts.
        start_wait = time.perf_counter()
        press_wait_error = None
        try:
            wait_for_text(page_a, NUTS_SHOWN, FIT_TIMEOUT_MS)
            wait_for_app_idle(page_a, timeout_ms=FIT_TIMEOUT_MS)
            wait_for_charts(page_a, N_CHARTS, timeout_ms=FIT_TIMEOUT_MS)
        except Exception as exc:  # noqa: BLE001 - reported
            press_wait_error = repr(exc)
        result["b_during_a_compile"] = _stats(during)
        result["b_pages_done_s_after_a_click"] = start_wait - clicked
        result["a_click_to_nuts_charts_s"] = time.perf_counter() - clicked
        result["a_error"] = press_wait_error
        browser.close()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.contention",
                                description=__doc__.split("\n")[0])
    p.add_argument("--baseline-s", type=float, default=10.0,
                   help="seconds of each in-process baseline (default 10)")
    p.add_argument("--features", type=int, default=3,
                   help="feature count of the model compiled in process (default 3)")
    p.add_argument("--browser-features", type=int, default=5,
                   help="feature count of page A's model (default 5)")
    p.add_argument("--pages", type=int, default=4, help="page B loads per phase (default 4)")
    p.add_argument("--no-browser", action="store_true", help="only the in-process part")
    p.add_argument("--out", type=Path, default=RESULTS / "contention.json")
    args = p.parse_args(argv)

    report: dict[str, Any] = {"in_process": in_process(args.baseline_s, args.features)}
    _print_in_process(report["in_process"])
    if not args.no_browser:
        report["browser"] = in_browser(args.browser_features, args.pages)
        _print_browser(report["browser"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"\nwrote {args.out}")
    return 0


def _row(name: str, s: dict[str, float]) -> str:
    if not s.get("n"):
        return f"  {name:34s} no runs"
    return (f"  {name:34s} n={s['n']:4d}  median {s['median_s']:.3f} s  "
            f"p95 {s['p95_s']:.3f} s  max {s['max_s']:.3f} s")


def _print_in_process(r: dict[str, Any]) -> None:
    print(f"in process: a compile of a new shape took {r['compile_s']:.1f} s "
          f"({r['compile_wall_s']:.1f} s wall) while two other users worked")
    for name in ("control_change_alone", "control_change_during_compile",
                 "warm_nuts_alone", "warm_nuts_during_compile"):
        print(_row(name, r[name]))


def _print_browser(r: dict[str, Any]) -> None:
    print("in the browser: page B's time from link to drawn charts")
    print(_row("B alone", r["b_alone"]))
    print(_row("B while A's Fit compiles", r["b_during_a_compile"]))
    print(f"  A: click to NUTS charts {r['a_click_to_nuts_charts_s']:.1f} s; "
          f"B's pages done {r['b_pages_done_s_after_a_click']:.1f} s after A's click"
          + (f"; A failed: {r['a_error']}" if r["a_error"] else ""))


if __name__ == "__main__":
    sys.exit(main())
