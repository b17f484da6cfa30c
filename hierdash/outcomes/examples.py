"""Built-in outcome data: the rat tumours of *Bayesian Data Analysis* (ch. 5).

``builtin/rat_tumors.csv`` is described in that folder's README.md (source and columns).
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import numpy as np

from hierdash.outcomes.binomial import Binomial
from hierdash.outcomes.data import TaskData

__all__ = ["rat_tumors_bytes", "load_rat_tumors"]


def rat_tumors_bytes() -> bytes:
    """The bytes of ``rat_tumors.csv``: columns ``experiment``, ``tumors``, ``rats``."""
    return resources.files(__package__).joinpath("builtin", "rat_tumors.csv").read_bytes()


def load_rat_tumors() -> TaskData:
    """The 71 rat groups as binomial tasks, intercept only.

    Returns
    -------
    TaskData
        One task per experiment (in the book's order), each a single row: feature 1.0
        (the intercept), ``y`` = rats with a tumour, ``size`` = rats in the group.
    """
    table = list(csv.DictReader(io.StringIO(rat_tumors_bytes().decode("utf-8"))))
    tumors = np.array([float(row["tumors"]) for row in table])
    rats = np.array([float(row["rats"]) for row in table])
    ones = np.ones((1, 1))
    return TaskData(Binomial(), tuple(ones for _ in table), tuple(tumors[:, None]),
                    tuple(rats[:, None]))
