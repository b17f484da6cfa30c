"""Built-in example tables and the reader for tables of your own.

``radon_mn.csv`` is described in this folder's README.md (source and columns); the rat
tumours are :mod:`hierdash.outcomes`' own (``outcomes/builtin/README.md``), read here
like an upload.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from hierdash.own_data.reading import MAX_BYTES, DataError, read_table

__all__ = ["DataError", "EXAMPLES", "MAX_BYTES", "RADON", "RATS", "example_bytes",
           "load_radon", "load_rats", "radon_bytes", "rats_bytes", "read_table"]

# How the radon example is fitted by default: log radon by floor, one group per county.
RADON = {"group": "county", "y": "log_radon", "x": ("floor",), "outcome": "gaussian"}
# The rat tumours of Bayesian Data Analysis (ch. 5): tumours of rats per experiment, one
# probability per experiment (intercept only).
RATS = {"group": "experiment", "y": "tumors", "x": (), "outcome": "binomial",
        "trials": "rats"}


def radon_bytes() -> bytes:
    """The bytes of ``radon_mn.csv`` (919 homes in 85 Minnesota counties)."""
    return resources.files(__package__).joinpath("builtin", "radon_mn.csv").read_bytes()


def load_radon() -> pd.DataFrame:
    """Indoor radon in 919 Minnesota homes, 85 counties (1 to 116 homes each).

    Returns
    -------
    pandas.DataFrame
        Columns ``county`` (text), ``floor`` (0 = basement, 1 = first floor),
        ``log_uranium`` (the county's log soil uranium) and ``log_radon``; read by
        :func:`read_table`, like an upload.
    """
    return read_table(radon_bytes())


def rats_bytes() -> bytes:
    """The bytes of ``rat_tumors.csv`` (71 experiments, 10 to 52 rats each)."""
    from hierdash.outcomes.examples import rat_tumors_bytes

    return rat_tumors_bytes()


def load_rats() -> pd.DataFrame:
    """Endometrial stromal polyps in 71 historical control groups of rats.

    Returns
    -------
    pandas.DataFrame
        Columns ``experiment`` (1 to 71), ``tumors`` (rats with a tumour, 0 to 16) and
        ``rats`` (rats in the group, 10 to 52); read by :func:`read_table`, like an upload.
        Fitted by default as :data:`RATS` says: successes ``tumors`` of trials ``rats``.
    """
    return read_table(rats_bytes())


# Each built-in table by the name the command line and the page use: its bytes and how
# it is fitted by default.
EXAMPLES = {"radon": (radon_bytes, RADON), "rats": (rats_bytes, RATS)}


def example_bytes(name: str) -> bytes:
    """The bytes of the built-in table ``name`` (a key of :data:`EXAMPLES`)."""
    return EXAMPLES[name][0]()
