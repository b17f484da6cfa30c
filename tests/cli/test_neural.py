"""``python -m hierdash neural``: bad flags in one line, and the files of a small run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hierdash.cli import main


@pytest.mark.parametrize(("argv", "start"), [
    (["--hidden", "9"], "hierdash neural: error: hidden = 9 is not allowed"),
    (["--hidden", "four"], "hierdash neural: error: --hidden = 'four' is not allowed"),
    (["--samples", "3,x"], "hierdash neural: error: --samples = '3,x'"),
    (["--samples", "200"], "hierdash neural: error: samples = (200,)"),
    (["--rotation-spread", "-5"], "hierdash neural: error: rotation_spread = -5.0"),
    (["--padding", "zeros"], "hierdash neural: error: padding = 'zeros'"),
    (["--method", "vi"], "hierdash neural: error: method = 'vi'"),
    (["--target-accept", "1.5"], "hierdash neural: error: target_accept = 1.5"),
    (["--target-accept", "high"], "hierdash neural: error: --target-accept = 'high'"),
    (["--bogus"], "hierdash neural: error: unrecognized arguments: --bogus"),
])
def test_bad_flags_exit_2_with_one_line(argv, start, capsys):
    with pytest.raises(SystemExit) as info:
        main(["neural", *argv])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(start) and err.count("\n") == 1, err


@pytest.mark.slow
def test_a_small_run_writes_its_three_files(tmp_path, capsys):
    out = tmp_path / "run"
    status = main(["neural", "--samples", "20,5", "--hidden", "2", "--draws", "100",
                   "--tune", "100", "--test-per-task", "20", "--rotation-spread", "20",
                   "--seed", "3", "--quiet", "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "hierarchical" in printed and "largest R-hat over probabilities" in printed
    accuracy = pd.read_csv(out / "accuracy.csv")
    assert list(accuracy.columns) == ["task", "n", "model", "accuracy", "log_score"]
    assert len(accuracy) == 6 and set(accuracy["n"]) == {20, 5}
    spreads = pd.read_csv(out / "spreads.csv")
    assert list(spreads["block"]) == ["w1", "b1", "w2", "b2"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["samples"] == [20, 5]
    for key in ("compile_seconds", "sampling_seconds", "divergences", "max_rhat_probabilities"):
        assert key in summary
