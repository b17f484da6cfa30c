"""Server CPU per default NUTS fit, end to end as the explore page does it.

``python -m benchmarks.page_cpu`` warms the compiled models as the app does at start-up,
then for each seed measures ``time.process_time`` (every thread of this process, the
sampler's threads included) around what the server does for one student's *Fit*:
simulate, sample, diagnostics and tables (:func:`hierdash.inference.fit`), then the
explore page's summaries and charts turned into their Vega-Lite JSON, and the CSV
downloads. Streamlit's own work (the script rerun, the websocket) is not included.
Issue 9's target: at most 0.3 s of server CPU per default fit. Writes
``benchmarks/results/page_cpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def page_work(scenario) -> dict[str, float]:
    """CPU seconds of one fit and of the page's charts for it."""
    from hierdash import charts, summaries
    from hierdash.inference import fit
    from hierdash.report import data_csv, weights_csv

    start = time.process_time()
    result = fit(scenario)
    fitted = time.process_time()
    w = result.weights
    built = [
        charts.parent_chart(w, reference=True),
        charts.child_chart(w, reference=True),
        charts.shrinkage_chart(w),
        charts.pull_chart(summaries.task_pull(w)),
        charts.rmse_chart(summaries.comparable_errors(w)),
        charts.padding_chart(summaries.padding_segments(
            result.padded.mask, result.padded.likelihood_mask, result.padded.counts)),
        charts.scales_chart(result.scales, reference=True),
    ]
    for chart in built:
        chart.to_dict()
    weights_csv(result)
    data_csv(result)
    end = time.process_time()
    return {"fit_cpu_s": fitted - start, "page_cpu_s": end - fitted, "total_cpu_s": end - start}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.page_cpu", description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--out", type=Path, default=RESULTS / "page_cpu.json")
    args = p.parse_args(argv)
    from hierdash.inference import warm_up
    from hierdash.scenario import Scenario

    warm_up()
    page_work(Scenario(seed=0))  # first-call costs (imports, numba dispatch) out of the way
    rows = [page_work(Scenario(seed=seed)) | {"seed": seed} for seed in range(1, args.seeds + 1)]
    med = {k: statistics.median(r[k] for r in rows) for k in ("fit_cpu_s", "page_cpu_s", "total_cpu_s")}
    load = os.getloadavg()[0]
    print(f"default world, {args.seeds} seeds, load average {load:.1f} on {os.cpu_count()} cores")
    print(f"median CPU s per fit: fit {med['fit_cpu_s']:.3f} + page {med['page_cpu_s']:.3f} "
          f"= {med['total_cpu_s']:.3f} (target <= 0.3: {'MET' if med['total_cpu_s'] <= 0.3 else 'NOT MET'})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"median": med, "load_average": load, "runs": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
