"""The command line on a table of your own: its files, its printed table, its exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hierdash.cli import main
from hierdash.cli.fit_data import main as data_main

ROOT = Path(__file__).resolve().parents[2]


def _small_table(path: Path, *, names=("north", "south", "=EVIL()", "west")) -> Path:
    """Four groups of 3 to 6 rows, one named like a spreadsheet formula."""
    rows = []
    for g, name in enumerate(names):
        for i in range(3 + g):
            rows.append({"school": name, "hours": i, "score": 50 + 2 * g + 1.5 * i + (i % 2)})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_files_and_table(tmp_path, capsys):
    data = _small_table(tmp_path / "scores.csv")
    out = tmp_path / "out"
    status = main(["--data", str(data), "--group", "school", "--y", "score", "--x", "hours",
                   "--method", "exact", "--out", str(out), "--quiet"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "north" in printed and "4 groups (school)" in printed
    for name in ("weights.csv", "data.csv", "settings.json", "posterior.nc"):
        assert (out / name).stat().st_size > 0, name
    weights = pd.read_csv(out / "weights.csv", keep_default_na=False)
    groups = weights[weights["level"] == "group"]
    # Groups by their own names (sorted), with their row counts; the formula escaped.
    assert sorted(set(groups["group"])) == sorted(["north", "south", "'=EVIL()", "west"])
    assert dict(zip(groups["group"], groups["n"], strict=False)) == {
        "'=EVIL()": 5, "north": 3, "south": 4, "west": 6}
    assert set(groups["feature"]) == {"intercept", "hours"}
    used = pd.read_csv(out / "data.csv")
    assert len(used) == 18 and list(used.columns) == ["school", "score", "hours"]
    assert "'=EVIL()" in set(used["school"])
    settings = json.loads((out / "settings.json").read_text())
    assert settings["data"]["group"] == "school" and settings["data"]["x"] == ["hours"]
    assert set(settings["priors"]) == {"prior_parent_mean", "prior_parent_scale",
                                       "prior_spread_scale", "prior_noise_scale"}
    assert "rstanarm" in settings["priors_rule"]
    assert settings["fit"]["method"] == "exact"


def test_posterior_labelled_by_group(tmp_path):
    import xarray as xr

    data = _small_table(tmp_path / "scores.csv")
    assert main(["--data", str(data), "--group", "school", "--y", "score", "--x", "hours",
                 "--out", str(tmp_path), "--quiet"]) == 0
    tree = xr.open_datatree(tmp_path / "posterior.nc", engine="h5netcdf")
    child = tree["posterior"]["child"]
    assert list(child["task"].values) == ["=EVIL()", "north", "south", "west"]
    assert list(child["feature"].values) == ["intercept", "hours"]


def test_standardised_weights_on_original_scale(tmp_path):
    data = _small_table(tmp_path / "scores.csv")
    common = ["--data", str(data), "--group", "school", "--y", "score", "--x", "hours",
              "--quiet", "--seed", "3"]
    assert main([*common, "--out", str(tmp_path / "raw")]) == 0
    assert main([*common, "--standardise", "--out", str(tmp_path / "std")]) == 0
    raw = pd.read_csv(tmp_path / "raw" / "weights.csv")
    std = pd.read_csv(tmp_path / "std" / "weights.csv")
    # Complete pooling is least squares: the same line whatever the features' scale.
    assert std["complete_pooling"].to_numpy() == pytest.approx(
        raw["complete_pooling"].to_numpy(), rel=1e-8)
    assert json.loads((tmp_path / "std" / "settings.json").read_text())["data"]["standardise"]


def test_radon_example_defaults(tmp_path, capsys):
    assert main(["--example", "radon", "--quiet", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "85 groups (county), 919 rows" in printed and "AITKIN" in printed
    weights = pd.read_csv(tmp_path / "weights.csv")
    assert weights["group"].nunique() == 85
    assert weights.loc[weights["group"] == "HENNEPIN", "n"].iloc[0] == 105


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data", "no-such-file.csv", "--group", "a", "--y", "b"], "There is no file"),
        (["--data", "radon", "--x", "flor"], "Did you mean 'floor'"),
        (["--data", "radon", "--y", "county"], "the same column"),
        (["--data", "radon", "--group", "floor"], "already"),
        (["--data", "radon", "--method", "magic"], "invalid choice"),
        (["--data", "radon", "--draws", "7"], "draws = 7"),
        (["--data", "radon", "--prior-noise-scale", "-1"], "prior_noise_scale"),
        (["--data", "radon", "--example", "radon"], "not both"),
        (["--data"], "expected one argument"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err


def test_bad_files_exit_2(tmp_path, capsys):
    image = tmp_path / "photo.csv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    one_group = tmp_path / "one.csv"
    one_group.write_text("g,y,x\na,1,2\na,2,3\na,3,5\n")
    constant = tmp_path / "constant.csv"
    constant.write_text("g,y,x\na,1,2\na,2,2\nb,3,2\nb,5,2\n")
    text_y = tmp_path / "text.csv"
    text_y.write_text("g,y,x\na,1,2\na,two,3\nb,3,5\nb,4,1\n")
    many = tmp_path / "ids.csv"
    many.write_text("id,y,x\n" + "".join(f"r{i},{i % 7},{i % 5}\n" for i in range(1500)))
    cases = [(image, "not a CSV"), (one_group, "only one value"), (constant, "every row"),
             (text_y, "not numeric"), (many, "ID column")]
    for path, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            data_main(["--data", str(path), "--group", "id" if path == many else "g",
                       "--y", "y", "--x", "x", "--quiet"])
        assert exit_info.value.code == 2, path
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (path, err)


def test_more_groups_than_a_fit_allows(tmp_path, capsys):
    path = tmp_path / "wide.csv"
    path.write_text("g,y\n" + "".join(f"g{i},{i % 7}\ng{i},{i % 3}\n" for i in range(250)))
    with pytest.raises(SystemExit) as exit_info:
        data_main(["--data", str(path), "--group", "g", "--y", "y", "--quiet"])
    assert exit_info.value.code == 2
    assert "at most 200 can be fitted" in capsys.readouterr().err


def test_unwritable_out_exits_1(tmp_path, capsys):
    data = _small_table(tmp_path / "scores.csv")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status = main(["--data", str(data), "--group", "school", "--y", "score", "--x", "hours",
                   "--quiet", "--out", str(blocker / "out")])
    assert status == 1
    assert "cannot write" in capsys.readouterr().err


def test_python_dash_m_one_line_no_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hierdash", "--data", str(tmp_path / "x.csv"),
                           "--group", "g", "--y", "y"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "There is no file" in proc.stderr


# ---------------------------------------------------------------------------
# Yes/no and count outcomes
# ---------------------------------------------------------------------------
def test_rats_binomial_intercept_only_exact_is_quick(tmp_path, capsys):
    import time

    start = time.perf_counter()
    status = main(["--data", "rats", "--outcome", "binomial", "--trials", "rats", "--group",
                   "experiment", "--y", "tumors", "--method", "exact", "--compare", "--quiet",
                   "--out", str(tmp_path)])
    assert status == 0
    assert time.perf_counter() - start < 15  # a couple of seconds; slack for a busy machine
    printed = capsys.readouterr().out
    assert "71 groups (experiment), 71 rows, outcome tumors (successes of rats)" in printed
    assert "p(tumors, rats) ~ 1 + (1 | experiment)" in printed
    assert "tumors | trials(rats) ~ 1 + (1 | experiment)" in printed
    weights = pd.read_csv(tmp_path / "weights.csv", keep_default_na=False)
    assert set(weights["level"]) == {"parent", "group"} and len(weights) == 72
    assert {"natural_scale", "natural_mean", "natural_low", "natural_high"} <= set(weights)
    assert set(weights["natural_scale"]) == {"probability"}
    parent = weights[weights["level"] == "parent"].iloc[0]
    assert 0.10 < float(parent["natural_mean"]) < 0.16
    settings = json.loads((tmp_path / "settings.json").read_text())
    assert settings["data"]["outcome"] == "binomial" and settings["data"]["trials"] == "rats"
    assert settings["data"]["x"] == []
    assert settings["priors"] == {"prior_parent_mean": 0.0, "prior_parent_scale": 2.5,
                                  "prior_spread_scale": 1.0}
    assert "logit scale" in settings["priors_rule"]
    pooling = pd.read_csv(tmp_path / "pooling.csv")
    assert pooling["method"][0] == "partial_pooling"


def test_rats_defaults_need_no_columns(tmp_path):
    assert main(["--data", "rats", "--quiet", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "settings.json").read_text())["data"]["outcome"] == "binomial"


def _counts_table(path: Path) -> Path:
    rng = np.random.default_rng(5)
    rows = []
    for g, rate in enumerate((0.5, 1.0, 2.0, 4.0)):
        for i in range(6):
            years = float(1 + i % 3)
            x = float(rng.normal())
            count = int(rng.poisson(rate * years * np.exp(0.3 * x)))
            rows.append({"road": f"r{g}", "years": years, "speed": x, "crashes": count,
                         "any": int(count > 1)})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_poisson_with_exposure_and_a_feature(tmp_path, capsys):
    data = _counts_table(tmp_path / "roads.csv")
    status = main(["--data", str(data), "--group", "road", "--y", "crashes", "--x", "speed",
                   "--outcome", "poisson", "--exposure", "years", "--standardise",
                   "--method", "exact", "--quiet", "--out", str(tmp_path / "out")])
    assert status == 0
    printed = capsys.readouterr().out
    assert "offset(log(years))" in printed
    weights = pd.read_csv(tmp_path / "out" / "weights.csv", keep_default_na=False)
    assert set(weights["feature"]) == {"intercept", "speed"}
    assert set(weights["natural_scale"]) == {"rate", "rate ratio"}
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert settings["data"]["exposure"] == "years"


def test_bernoulli_intercept_only(tmp_path, capsys):
    data = _counts_table(tmp_path / "roads.csv")
    status = main(["--data", str(data), "--group", "road", "--y", "any",
                   "--outcome", "bernoulli", "--method", "exact", "--quiet"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "outcome any (yes/no), weights intercept" in printed


@pytest.mark.parametrize(
    ("table", "argv", "message"),
    [
        ("g,y\na,0\na,2\nb,1\nb,0\n", ["--outcome", "bernoulli"],
         "must be 0 or 1 in every row: data row 2 holds 2"),
        ("g,y,n\na,3,5\na,6,5\nb,1,4\nb,0,4\n", ["--outcome", "binomial", "--trials", "n"],
         "more successes than trials: data row 2 has 6"),
        ("g,y\na,3\na,-1\nb,1\nb,0\n", ["--outcome", "poisson"], "cannot be negative"),
        ("g,y,t\na,3,1\na,1,0\nb,1,2\nb,0,1\n", ["--outcome", "poisson", "--exposure", "t"],
         "must be more than 0 in every row"),
        ("g,y,n\na,3,5\na,1,five\nb,1,4\nb,0,4\n", ["--outcome", "binomial", "--trials", "n"],
         "The trials column 'n' is not numeric: data row 2 holds 'five'"),
        ("g,y,n\na,3,5\na,1,5\nb,1,4\nb,0,4\n", ["--trials", "n"],
         "goes only with a binomial outcome"),
        ("g,y,n\na,3,5\na,1,5\nb,1,4\nb,0,4\n", ["--outcome", "binomial"],
         "needs a trials column"),
        ("g,y\na,0\na,1\nb,1\nb,0\n", ["--outcome", "bernoulli", "--method", "advi"],
         "ADVI is built for Gaussian outcomes only"),
        ("g,y\na,0\na,1\nb,1\nb,0\n", ["--outcome", "bernoulli", "--prior-noise-scale", "2"],
         "has no noise"),
    ],
    ids=["bernoulli-not-01", "successes-over-trials", "negative-count", "zero-exposure",
         "text-trials", "trials-without-binomial", "binomial-without-trials", "advi",
         "noise-prior"],
)
def test_bad_outcome_input_exits_2_with_one_line(tmp_path, capsys, table, argv, message):
    path = tmp_path / "t.csv"
    path.write_text(table)
    with pytest.raises(SystemExit) as exit_info:
        data_main(["--data", str(path), "--group", "g", "--y", "y", "--quiet", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err
