"""Server CPU per default NUTS fit, end to end as the explore page does it.

``python -m benchmarks.page_cpu`` warms the compiled models as the app does at start-up,
then for each seed measures ``time.process_time`` (every thread of this process, the
sampler's threads included) around what the server does for one student: opening the
page on a world (its exact fit and charts), then *Fit*:
simulate, sample, diagnostics and tables (:func:`hierdash.inference.fit`), then the
explore page's summaries and charts turned into their Vega-Lite JSON (the downloads
are made only when clicked). Streamlit's own work (the script rerun, the websocket) is not included.

The page builds each chart once per layout (:mod:`hierdash.charts.specs`): the seeds
here share the default world's layout, as a class on one link does, so after the first
seed a chart costs only its numbers. ``altair_page_cpu_s`` is, for comparison, what a
full Altair build and validation of the same charts costs (``st.altair_chart``), and
``first_layout`` is the first seed's cost, a layout never drawn before.
Issue 9's target is at most 0.3 s of server CPU per default fit through the page; this
measures the engine's and the charts' part of it (Streamlit's script reruns, progress
polls and messages come on top: ``python -m benchmarks.load`` reports server CPU per
Fit pressed on a real server). Writes ``benchmarks/results/page_cpu.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def page_charts(result):
    """The explore page's seven charts of one fit: (builder, tables, options)."""
    from hierdash import charts, summaries

    w, outlier, padded = result.weights, result.scenario.outlier, result.padded
    reference = result.scenario.method != "exact"
    segments = summaries.padding_segments(padded.mask, padded.likelihood_mask, padded.counts)
    return [
        (charts.parent_chart, (w,), {"reference": reference}),
        (charts.child_chart, (w,), {"reference": reference, "outlier": outlier}),
        (charts.shrinkage_chart, (w,), {"outlier": outlier}),
        (charts.pull_chart, (summaries.task_pull(w),), {"outlier": outlier}),
        (charts.rmse_chart, (summaries.comparable_errors(w),), {}),
        (charts.padding_chart, (segments,), {"outlier": outlier}),
        (charts.scales_chart, (result.scales,), {"reference": reference}),
    ]


def page_work(scenario, specs) -> dict[str, float]:
    """CPU seconds of what the server does for one student on one world: the page
    opened (the exact fit and its charts), then *Fit* (the sampler's fit and its
    charts), the charts through ``specs`` as the page draws them; and, to compare, a
    full Altair build and validation of the same charts (``st.altair_chart``)."""
    from hierdash.inference import fit

    def charts_of(result) -> None:
        for builder, frames, options in page_charts(result):
            json.dumps(specs.spec(builder, *frames, **options))

    start = time.process_time()
    charts_of(fit(scenario.replace(method="exact")))
    opened = time.process_time()
    result = fit(scenario)
    fitted = time.process_time()
    charts_of(result)
    end = time.process_time()
    for builder, frames, options in page_charts(result):
        builder(*frames, **options).to_dict()
    altair = time.process_time() - end
    return {"open_cpu_s": opened - start, "fit_cpu_s": fitted - opened,
            "page_cpu_s": end - fitted, "total_cpu_s": end - opened,
            "visit_cpu_s": end - start, "altair_page_cpu_s": altair}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.page_cpu", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--out", type=Path, default=RESULTS / "page_cpu.json")
    args = p.parse_args(argv)
    from hierdash.inference import warm_up
    from hierdash.scenario import Scenario

    warm_up()
    from hierdash.charts.specs import ChartSpecs

    page_work(Scenario(seed=0), ChartSpecs())  # first-call costs (imports, numba) out of the way
    # As the server does after its warm-up (hierdash.ui.shared.freeze_long_lived_objects):
    # the modules and compiled models are kept out of later garbage collections.
    gc.collect()
    gc.freeze()
    specs = ChartSpecs()
    first = page_work(Scenario(seed=1), specs)
    rows = [page_work(Scenario(seed=seed), specs) | {"seed": seed}
            for seed in range(2, args.seeds + 2)]
    keys = ("open_cpu_s", "fit_cpu_s", "page_cpu_s", "total_cpu_s", "visit_cpu_s",
            "altair_page_cpu_s")
    med = {k: statistics.median(r[k] for r in rows) for k in keys}
    load = os.getloadavg()[0]
    print(f"default world, {args.seeds} seeds, load average {load:.1f} on {os.cpu_count()} cores")
    verdict = "MET" if med["total_cpu_s"] <= 0.3 else "NOT MET"
    print(f"median CPU s per fit: fit {med['fit_cpu_s']:.3f} + charts {med['page_cpu_s']:.3f} "
          f"= {med['total_cpu_s']:.3f} (engine and charts within 0.3 s: {verdict}; Streamlit's "
          f"reruns come on top: `python -m benchmarks.load` measures the whole page)")
    print(f"  the student's whole visit (page opened with the exact posterior, then the "
          f"fit): {med['visit_cpu_s']:.3f} s, of which opening {med['open_cpu_s']:.3f} s")
    print(f"  the same charts built in full by Altair (st.altair_chart): "
          f"{med['altair_page_cpu_s']:.3f} s; a layout never drawn before: page "
          f"{first['page_cpu_s']:.3f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"median": med, "first_layout": first,
                                     "load_average": load, "runs": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
