"""The dispatcher and what every command shares: one entry point, one parser, one
progress printer, the same exit codes."""

from __future__ import annotations

import io
import tomllib
from importlib import import_module
from pathlib import Path

import pytest

import hierdash.__main__ as dunder_main
from hierdash.cli import main
from hierdash.cli.common import CommandParser, TerminalProgress, fit_in_terminal, write_files
from hierdash.inference.results import FitStopped

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_script_and_python_dash_m_are_the_dispatcher():
    script = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = script["hierdash"].partition(":")
    assert getattr(import_module(module), name) is main
    assert dunder_main.main is main


@pytest.mark.parametrize(("argv", "start"), [
    (["calibrate", "--worlds", "x"], "hierdash calibrate: error: --worlds"),
    (["--data", "radon", "--draws", "7"], "hierdash: error: draws = 7"),
    (["--example=radon", "--method", "magic"], "hierdash: error: argument --method"),
    (["--noise", "-1"], "hierdash: error: noise_sd"),
])
def test_each_command_gets_its_own_flags(argv, start, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(start) and err.count("\n") == 1, err


def test_a_world_flag_is_not_a_calibration_flag(capsys):
    with pytest.raises(SystemExit):
        main(["calibrate", "--noise", "1"])
    assert "unrecognized arguments: --noise" in capsys.readouterr().err


def test_the_parser_folds_its_error_into_one_line(capsys):
    parser = CommandParser(command="hierdash test", prog="x")
    with pytest.raises(SystemExit) as info:
        parser.error("two\nlines   here")
    assert info.value.code == 2
    assert capsys.readouterr().err == "hierdash test: error: two lines here\n"


def test_progress_off_a_terminal_is_a_line_per_tenth():
    stream = io.StringIO()
    progress = TerminalProgress(stream)
    for i in range(101):
        progress("sample", i / 100, "drawing")
    progress("summarise", None, "tables")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 + 1  # tenths 0..10, then the next stage
    assert "[" + "#" * 30 + "] 100%" in lines[10] and lines[-1].split()[1] == "summarise"


def test_a_stopped_or_interrupted_fit_gives_its_status(capsys):
    def stopped(progress):
        raise FitStopped("stopped after 3 s")

    def interrupted(progress):
        raise KeyboardInterrupt

    assert fit_in_terminal(lambda progress: 7, quiet=True) == (7, 0)
    assert fit_in_terminal(stopped, quiet=True) == (None, 1)
    assert capsys.readouterr().err == "\nhierdash: stopped after 3 s\n"
    assert fit_in_terminal(interrupted, quiet=True, command="hierdash x") == (None, 130)
    assert capsys.readouterr().err == "\nhierdash x: stopped\n"


def test_files_that_cannot_be_written_exit_1(tmp_path, capsys):
    def fail():
        raise PermissionError(13, "Permission denied")

    assert write_files(fail, tmp_path, command="hierdash calibrate") == 1
    assert capsys.readouterr().err == (f"hierdash calibrate: error: cannot write to {tmp_path}: "
                                       "Permission denied\n")
    assert write_files(lambda: [tmp_path / "a.csv"], tmp_path) == 0
    assert capsys.readouterr().out == f"wrote {tmp_path / 'a.csv'}\n"
