"""What every command shares: its parser's one-line errors, the progress printer, a fit
run in the terminal and the files written at the end.

The exit codes are the same for every command: 0 done, 1 a run that stopped or failed
or files that could not be written, 2 bad input (one line on stderr, never a
traceback), 130 interrupted with Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

__all__ = ["STOPPED", "CommandParser", "TerminalProgress", "fit_in_terminal", "write_files"]

STOPPED = 130
"""Exit status after Ctrl-C (128 + SIGINT), as a shell reports it."""


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2, never a traceback.

    Parameters
    ----------
    command
        How the error line names the command: ``"hierdash"`` or
        ``"hierdash calibrate"``.
    **kwargs
        As :class:`argparse.ArgumentParser`.
    """

    def __init__(self, *, command: str = "hierdash", **kwargs) -> None:
        super().__init__(**kwargs)
        self.command = command

    def error(self, message: str):
        # argparse echoes raw tokens, newlines too: fold them into one line.
        self.exit(2, f"{self.command}: error: {' '.join(str(message).split())}\n")


class TerminalProgress:
    """A fit's progress on a stream: one redrawn line on a terminal, a line per step
    elsewhere (a log file or a pipe keeps every step readable)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last: tuple[str | None, int] = (None, -1)
        self.start = time.perf_counter()

    def __call__(self, stage: str, fraction: float | None, message: str) -> None:
        step = -1 if fraction is None else int(fraction * 10)
        if (stage, step) == self.last:  # a line per tenth of a stage, not per draw
            return
        new_stage = stage != self.last[0]
        self.last = (stage, step)
        elapsed = time.perf_counter() - self.start
        bar = ""
        if fraction is not None:
            filled = int(round(fraction * 30))
            bar = f" [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%}"
        line = f"{elapsed:6.1f}s {stage:<9} {message}{bar}"
        if self.tty:
            self.stream.write(("\n" if new_stage else "\r") + line + "   ")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def fit_in_terminal[T](
    run: Callable[[TerminalProgress | None], T], *, quiet: bool, command: str = "hierdash"
) -> tuple[T | None, int]:
    """Call ``run(progress)`` with progress on stderr (none if ``quiet``).

    Returns
    -------
    (result, status)
        The result and 0; or ``None`` and the exit status when the fit was interrupted
        (130) or stopped (1, its reason on stderr).
    """
    from hierdash.inference.results import FitStopped  # light: no sampler loads

    progress = None if quiet else TerminalProgress(sys.stderr)
    try:
        return run(progress), 0
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{command}: stopped\n")
        return None, STOPPED
    except FitStopped as err:
        sys.stderr.write(f"\n{command}: {err}\n")
        return None, 1
    finally:
        if progress is not None:
            progress.close()


def write_files(
    write: Callable[[], Sequence[Path]], out: Path, *, command: str = "hierdash"
) -> int:
    """Call ``write()`` and print what it wrote; the exit status (1: ``out`` is not
    writable, said in one line on stderr)."""
    try:
        paths = write()
    except OSError as err:
        sys.stderr.write(f"{command}: error: cannot write to {out}: {err.strerror or err}\n")
        return 1
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
