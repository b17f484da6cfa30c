"""Server CPU per Fit pressed on the real page, one student at a time.

``python -m benchmarks.fit_cpu`` serves the app (``streamlit run``, as the browser tests
do), then for each seed opens the explore page on the
default world with that seed in headless Debian Chromium, waits until its exact charts
are drawn and the server is idle, presses *Fit with NUTS (nutpie)* and waits for the
NUTS charts. It reads the server's CPU time (every thread, from ``/proc``) from just
before the click until 1.5 s after the charts are drawn: everything the server spends
on one Fit (the script's run, the sampler's threads, the messages to the browser).
The first page load starts the server's warm-up (both models compile); the first fit
waits for it and is reported apart, and the measured fits start once the server is
quiet again.

This is issue 9's "server CPU per default fit, end to end through the page" without
other students: ``python -m benchmarks.load`` measures the same with a class at once,
where the browsers share this machine's two cores with the server. The first seed
(the first fit of the server) is reported apart; the median is over the rest.

``--method advi`` or ``fullrank_advi`` measures a Fit with ADVI instead (the link's
method; the charts it waits for include the ELBO's), issue 20's "Fit pressed to ADVI
charts <= 1.5 s warm; server CPU per ADVI fit <= 0.5 s": the first fit waits for the
warm-up, which compiles ADVI's loop after the NUTS models.

Writes ``benchmarks/results/fit_cpu.json`` (``fit_cpu_<method>.json`` for another
method). Examples::

    python -m benchmarks.fit_cpu             # 11 seeds, about 2 min
    python -m benchmarks.fit_cpu --seeds 21
    python -m benchmarks.fit_cpu --method advi
    python -m benchmarks.fit_cpu --method fullrank_advi
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True, cwd=RESULTS.parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# Issue 9's target for NUTS, issue 20's for the ADVI methods.
TARGET_CPU_S = {"nuts": 0.3, "advi": 0.5, "fullrank_advi": 0.5}


def press_fit(page, method: str) -> float:
    """Press Fit, wait for ``method``'s charts; return the seconds from click to charts."""
    from benchmarks.load import (
        FIT_TIMEOUT_MS,
        N_CHARTS,
        PAGE_TIMEOUT_MS,
        press_fit_and_wait,
        wait_for_text,
    )
    from hierdash.ui.labels import method_label
    from testkit.browser import wait_for_app_idle, wait_for_charts

    if method == "nuts":
        return press_fit_and_wait(page)
    label = method_label(method)
    start = time.perf_counter()
    page.get_by_role("button", name=f"Fit with {label}").click(timeout=PAGE_TIMEOUT_MS)
    wait_for_text(page, f"Charts show {label}", FIT_TIMEOUT_MS)
    wait_for_app_idle(page, timeout_ms=FIT_TIMEOUT_MS)
    wait_for_charts(page, N_CHARTS + 1, timeout_ms=FIT_TIMEOUT_MS)  # and the ELBO's
    return time.perf_counter() - start


def measure(n_seeds: int, method: str = "nuts") -> dict:
    from playwright.sync_api import sync_playwright

    from benchmarks.load import cpu_seconds, open_world, wait_until_quiet
    from hierdash.scenario import Scenario
    from testkit.browser import launch, served_app

    rows = []
    with served_app() as (url, server), sync_playwright() as pw:
        settled_s = wait_until_quiet(server.pid)
        page = launch(pw).new_page(viewport={"width": 1400, "height": 1000})
        for i in range(n_seeds):
            seed = 500 + i
            open_world(page, url, Scenario(seed=seed, method=method))
            time.sleep(1.0)  # the page's own run has ended
            before = cpu_seconds(server.pid)
            wall = press_fit(page, method)
            time.sleep(1.5)  # anything the fit leaves behind (messages, a last poll)
            rows.append({"seed": seed, "server_cpu_s": round(cpu_seconds(server.pid) - before, 3),
                         "click_to_charts_s": round(wall, 2)})
            print(f"seed {seed}: server CPU {rows[-1]['server_cpu_s']:.3f} s, "
                  f"click to charts {wall:.2f} s", flush=True)
            if i == 0:
                # The first page load starts the warm-up, which compiles the second
                # model in the background after the first fit: a start-up cost, not a
                # fit's. (Before this wait, it landed on seeds 501 and 502: 3 s each.)
                wait_until_quiet(server.pid)
    later = rows[1:] or rows
    return {
        "command": "python -m benchmarks.fit_cpu" + ("" if method == "nuts" else f" --method {method}"),
        "method": method,
        "commit": git_commit(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "python": platform.python_version(),
        "server_settled_s": round(settled_s, 1),
        "first_fit": rows[0],
        "median_server_cpu_per_fit_s": round(statistics.median(r["server_cpu_s"] for r in later), 3),
        "median_click_to_charts_s": round(statistics.median(r["click_to_charts_s"] for r in later), 2),
        "target_server_cpu_per_fit_s": TARGET_CPU_S[method],
        "fits": rows,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=11, help="fits, one seed each (>= 2)")
    p.add_argument("--method", choices=tuple(TARGET_CPU_S), default="nuts",
                   help="the method the link sets and Fit runs (default nuts)")
    p.add_argument("--out", type=Path,
                   help="default benchmarks/results/fit_cpu.json (fit_cpu_<method>.json)")
    args = p.parse_args(argv)
    if args.seeds < 2:
        p.error(f"--seeds = {args.seeds} is not allowed: must be >= 2")
    if args.out is None:
        name = "fit_cpu.json" if args.method == "nuts" else f"fit_cpu_{args.method}.json"
        args.out = RESULTS / name
    report = measure(args.seeds, args.method)
    print(f"\nmedian server CPU per Fit pressed: {report['median_server_cpu_per_fit_s']:.3f} s "
          f"(target {report['target_server_cpu_per_fit_s']} s); median click to charts "
          f"{report['median_click_to_charts_s']:.2f} s; first fit of the server "
          f"{report['first_fit']['server_cpu_s']:.2f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
