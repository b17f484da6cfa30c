"""Start-up: the server's warm-up, and the time to a process's first ADVI result.

``python -m benchmarks.warm_up`` runs each measurement in a fresh Python process:

- ``warm_up``: the server's order. :func:`hierdash.inference.warm_up` runs (the app
  calls it in a background thread at start-up) while a thread watches when each shared
  model becomes ready: both nutpie models (NUTS, the default method) and then ADVI's
  compiled loop. Then the first mean-field and full-rank ADVI fits of the default
  world, scenario to tables (no compile is left for them);
- ``advi_first``: no warm-up; the process's first fit is mean-field ADVI on the default
  world (it compiles ADVI's loop, or loads it from numba's disk cache, inside the fit).

Times are from the call (``warm_up``) or the fit's start, after ``import
hierdash.inference``; the import is reported apart. ``--cold-disk-cache`` points
numba's and PyTensor's disk caches at an empty directory: a first start on a new
machine. Writes ``benchmarks/results/warm_up.json``. Examples::

    python -m benchmarks.warm_up
    python -m benchmarks.warm_up --cold-disk-cache
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MODES = ("warm_up", "advi_first")


def _child(mode: str) -> dict:
    """One measurement, in this (fresh) process."""
    start = time.perf_counter()
    import hierdash.inference as inference
    from hierdash.inference.models.advi_kernel import advi_steps
    from hierdash.inference.models.compiled import MODEL_KEYS, NUTPIE_CACHE
    from hierdash.scenario import Scenario

    out: dict = {"mode": mode, "import_s": time.perf_counter() - start}
    if mode == "warm_up":
        ready: dict[str, float] = {}
        done = threading.Event()

        def watch(t0: float) -> None:
            while True:  # a last look after warm_up() returned: nothing is missed
                last = done.is_set()
                now = time.perf_counter() - t0
                for kind, key in MODEL_KEYS.items():
                    if key in NUTPIE_CACHE:
                        ready.setdefault(f"nuts_{kind}_ready_s", now)
                if advi_steps.signatures:
                    ready.setdefault("advi_ready_s", now)
                if last:
                    return
                time.sleep(0.005)

        t0 = time.perf_counter()
        watcher = threading.Thread(target=watch, args=(t0,), daemon=True)
        watcher.start()
        out["warm_up_compile_s"] = inference.warm_up()
        out["warm_up_total_s"] = time.perf_counter() - t0
        done.set()
        watcher.join()
        out.update(ready)
        out["nuts_ready_first"] = max(v for k, v in ready.items() if k.startswith("nuts_")) \
            <= ready.get("advi_ready_s", float("inf"))
    for method in ("advi", "fullrank_advi") if mode == "warm_up" else ("advi",):
        t0 = time.perf_counter()
        result = inference.fit(Scenario(method=method))
        out[f"first_{method}_fit_s"] = time.perf_counter() - t0
        out[f"first_{method}_compile_s"] = result.compile_s
    return out


def measure(mode: str, env: dict[str, str]) -> dict:
    """Run ``mode`` in a fresh process and read its JSON line."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.warm_up", "--child", mode],
                          capture_output=True, text=True, env=env, check=True,
                          cwd=Path(__file__).resolve().parent.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.warm_up",
                                description=__doc__.splitlines()[0])
    p.add_argument("--cold-disk-cache", action="store_true",
                   help="empty numba and PyTensor disk caches (a new machine's first start)")
    p.add_argument("--out", type=Path, default=RESULTS / "warm_up.json")
    p.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child)))
        return 0
    env = dict(os.environ)
    tmpdir = tempfile.mkdtemp(prefix="hierdash-warm-up-") if args.cold_disk_cache else None
    report = {"command": " ".join(["python", "-m", "benchmarks.warm_up", *sys.argv[1:]]),
              "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "python": platform.python_version(),
              "load_average_before": [round(x, 2) for x in os.getloadavg()],
              "cold_disk_cache": args.cold_disk_cache, "runs": {}}
    try:
        for mode in MODES:
            if tmpdir is not None:  # each mode starts from empty caches
                cache = Path(tmpdir) / mode
                flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",")
                         if f and not f.startswith("base_compiledir")]
                env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={cache}"])
                env["NUMBA_CACHE_DIR"] = str(cache / "numba_cache")
            report["runs"][mode] = measure(mode, env)
            print(mode, json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                    for k, v in report["runs"][mode].items()}), flush=True)
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
