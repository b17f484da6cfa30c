"""The command line: exit codes, output files, messages."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from hierdash.cli.fit_world import main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "hierdash", *args], capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    "args, field",
    [
        (["--tasks", "0"], "tasks"),
        (["--tasks", "3", "--samples", "1,2"], "samples"),
        (["--noise", "-1"], "noise_sd"),
        (["--method", "gibbs"], "method"),
        (["--draws", "abc"], "draws"),
        (["--samples", "1e9"], "samples"),
        (["--learn-spread", "maybe"], "learn_spread"),
        (["--outcome", "gamma"], "outcome"),
        (["--outcome", "poisson", "--method", "advi"], "method"),
        (["--outcome", "binomial", "--trials", "0"], "trials"),
        (["--outcome", "poisson", "--exposure", "0"], "exposure"),
        (["--intercept", "perhaps"], "intercept"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, field, capsys):
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and field in err and "Traceback" not in err


def test_an_outcome_world_writes_link_and_natural_scales(tmp_path, capsys):
    out = tmp_path / "binomial"
    assert main(["--outcome", "binomial", "--trials", "20", "--samples", "30,10,2",
                 "--method", "exact", "--quiet", "--out", str(out)]) == 0
    assert "outcome binomial (weights on the link scale)" in capsys.readouterr().out
    weights = pd.read_csv(out / "weights.csv")
    assert set(weights["natural_scale"]) == {"probability", "odds ratio"}
    data = pd.read_csv(out / "data.csv")
    assert (data["trials"] == 20).all() and (data["y"] <= data["trials"]).all()
    assert (data["x1"] == 1.0).all()  # the intercept column
    assert json.loads((out / "scenario.json").read_text())["outcome"] == "binomial"


def test_unknown_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--bogus", "1"])
    assert info.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_bad_flag_through_the_real_entry_point():
    proc = run("--parent-scale", "nan")
    assert proc.returncode == 2
    assert "parent_scale" in proc.stderr and "Traceback" not in proc.stderr


def test_exact_run_prints_a_table_and_writes_files(tmp_path, capsys):
    code = main(["--tasks", "3", "--samples", "100,80,5", "--method", "exact", "--features", "3",
                 "--seed", "7", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "parent" in out and "child" in out and "RMSE" in out
    scenario = json.loads((tmp_path / "scenario.json").read_text())
    assert scenario["samples"] == [100, 80, 5] and scenario["prior_parent_scale"] == 10.0
    data = pd.read_csv(tmp_path / "data.csv")
    assert list(data.columns) == ["task", "row", "x1", "x2", "x3", "y"]
    assert data.groupby("task").size().tolist() == [100, 80, 5]
    weights = pd.read_csv(tmp_path / "weights.csv")
    assert list(weights.columns[:7]) == ["level", "task", "feature", "n", "true", "mean", "sd"]
    assert len(weights) == 3 + 3 * 3
    import xarray as xr

    tree = xr.open_datatree(tmp_path / "posterior.nc", engine="h5netcdf")
    assert tree["posterior"]["child"].shape[-2:] == (3, 3)


def test_samples_takes_one_number_for_all_tasks(tmp_path):
    assert main(["--tasks", "4", "--samples", "5", "--method", "exact", "--quiet",
                 "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "scenario.json").read_text())["samples"] == [5, 5, 5, 5]


@pytest.mark.slow
def test_nuts_run_end_to_end_with_progress(tmp_path):
    proc = run("--tasks", "2", "--samples", "40,3", "--draws", "200", "--tune", "200",
               "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "sample" in proc.stderr and "compile" in proc.stderr or "sample" in proc.stderr
    assert "divergences" in proc.stdout
    assert (tmp_path / "posterior.nc").stat().st_size > 0


def test_the_report_and_the_page_score_pooling_on_the_same_tasks():
    import altair as alt

    import hierdash as hd
    from hierdash.summaries.report import format_report

    # Task 2 has too few rows for an estimate of its own: two sets of tasks are scored.
    result = hd.fit(hd.Scenario(samples=(100, 80, 2), method="exact", draws=200, seed=3))
    errors = hd.comparable_errors(result.weights)
    assert errors["scope"].nunique() == 2
    chart = hd.rmse_chart(errors)
    assert isinstance(chart, alt.FacetChart)
    drawn = next(iter(chart.to_dict()["datasets"].values()))
    line = next(text for text in format_report(result).splitlines() if text.startswith("RMSE"))
    for row in drawn:
        assert f"{row['method']} {row['rmse']:.3f}" in line
    assert "tasks with an estimate of their own (2 of 3)" in line
