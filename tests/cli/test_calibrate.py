"""``python -m hierdash calibrate``: files, exit codes, one-line errors, Dask."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from hierdash.calibration.files import read_run
from hierdash.cli.calibrate import main


@pytest.mark.parametrize("args, field", [
    (["--worlds", "0"], "--worlds"),
    (["--worlds", "many"], "--worlds"),
    (["--seed", "-3"], "--seed"),
    (["--method", "gibbs"], "--method"),
    (["--padding", "zeros"], "--padding"),
    (["--parameterization", "twisted"], "--parameterization"),
    (["--family", "nope"], "family"),
    (["--features", "9"], "n_features"),
    (["--features", "two"], "--features"),
    (["--tasks", "4,2"], "tasks"),
    (["--sample-counts", "1,x"], "--sample-counts"),
    (["--samples", "5000"], "samples"),
    (["--prior-spread-scale", "100"], "prior_spread_scale"),
    (["--learn-spread", "maybe"], "--learn-spread"),
    (["--workers", "-1"], "--workers"),
    (["--workers", "0", "--scheduler", "tcp://x:1"], "--scheduler"),
    (["--no-such-flag"], "unrecognized"),
    (["--outcome", "gamma"], "--outcome"),
    (["--outcome", "poisson", "--family", "wide"], "--outcome"),
    (["--outcome", "poisson", "--method", "advi"], "method"),
])
def test_bad_flags_exit_2_with_one_line(args, field, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field in err and "Traceback" not in err


def test_serial_run_writes_its_files_and_prints_a_table(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["--method", "exact", "--worlds", "12", "--seed", "4", "--workers", "0",
                 "--family", "issue9", "--features", "3", "--tasks", "2,3",
                 "--sample-counts", "0,5,20", "--padding", "naive", "--quiet", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "exact (auto, naive padding) on issue9-custom, seed 4: 12 worlds" in printed
    for level in ("parent", "child", "spread", "noise"):
        assert level in printed
    ranks = pd.read_csv(out / "ranks.csv")
    assert {"world", "level", "task", "feature", "rank", "inside_50",
            "inside_94"} <= set(ranks.columns)
    assert sorted(ranks["world"].unique()) == list(range(12))
    assert ranks["rank"].between(0, 1).all()
    assert set(ranks.loc[ranks["level"] == "parent", "feature"]) == {0, 1, 2}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_worlds"] == 12 and summary["method"] == "exact"
    assert summary["padding"] == "naive" and summary["family"]["n_features"] == 3
    assert summary["summary"]["worlds_with_divergences"] == 0
    assert {row["level"] for row in summary["summary"]["coverage"]} == {
        "parent", "child", "spread", "noise"}
    assert summary["wall_seconds"] > 0
    saved = read_run(out)  # the lab reads it back, worlds and all
    assert saved.summary.n_worlds == 12
    assert saved.summary.coverage_of("noise", 0.94) == pytest.approx(
        tuple(next((r["coverage"], r["se"]) for r in summary["summary"]["coverage"]
                   if r["level"] == "noise" and r["interval"] == 0.94)))


def test_fixed_samples_and_learn_spread_reach_the_family(tmp_path, capsys):
    out = tmp_path / "fixed"
    assert main(["--method", "exact", "--worlds", "3", "--workers", "0", "--samples", "7,0",
                 "--learn-spread", "false", "--quiet", "--out", str(out)]) == 0
    ranks = pd.read_csv(out / "ranks.csv")
    assert "spread" not in set(ranks["level"])
    assert set(ranks.loc[ranks["level"] == "child", "task"]) == {0, 1}


@pytest.mark.parametrize("outcome", ["bernoulli", "binomial", "poisson"])
def test_an_outcome_family_checks_its_worlds_without_noise(outcome, tmp_path, capsys):
    out = tmp_path / outcome
    assert main(["--outcome", outcome, "--method", "exact", "--worlds", "4", "--workers",
                 "0", "--quiet", "--out", str(out)]) == 0
    assert f"on {outcome}, seed 1: 4 worlds" in capsys.readouterr().out
    ranks = pd.read_csv(out / "ranks.csv")
    assert set(ranks["level"]) == {"parent", "child", "spread"}
    assert set(ranks.loc[ranks["level"] == "parent", "feature"]) == {0, 1}


def test_unwritable_out_exits_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["--method", "exact", "--worlds", "1", "--workers", "0", "--quiet",
                 "--out", str(blocker / "sub")])
    assert code == 1
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.slow
def test_the_module_runs_worlds_on_a_local_dask_cluster(tmp_path):
    out = tmp_path / "dask"
    done = subprocess.run(
        [sys.executable, "-m", "hierdash", "calibrate", "--method", "exact", "--worlds", "6",
         "--seed", "2", "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "dask: 2 workers" in done.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["workers"] == 2
    # The same worlds as a serial run: world i depends on the seed and i only.
    serial = tmp_path / "serial"
    assert main(["--method", "exact", "--worlds", "6", "--seed", "2", "--workers", "0",
                 "--quiet", "--out", str(serial)]) == 0
    on_dask, alone = (pd.read_csv(d / "ranks.csv") for d in (out, serial))
    pd.testing.assert_frame_equal(on_dask, alone)


def test_bad_flags_of_the_module_exit_2():
    done = subprocess.run([sys.executable, "-m", "hierdash", "calibrate", "--worlds", "x"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("hierdash calibrate: error: --worlds")
