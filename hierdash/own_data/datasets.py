"""Built-in example tables and the reader for tables of your own.

``radon_mn.csv`` is described in this folder's README.md (source and columns).
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from hierdash.own_data.reading import MAX_BYTES, DataError, read_table

__all__ = ["DataError", "MAX_BYTES", "RADON", "load_radon", "radon_bytes", "read_table"]

# How the radon example is fitted by default: log radon by floor, one group per county.
RADON = {"group": "county", "y": "log_radon", "x": ("floor",)}


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
