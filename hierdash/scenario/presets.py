"""Ready-made worlds for the dashboard: each one sets the tasks and their sample counts.

Pure data and two small helpers; nothing here imports Streamlit. A preset changes only
the fields it names (the sample counts, and any ``settings``), so the truth, the seed
and the fit settings the user chose stay as they are. Every preset names the outlier
task (``-1``: none), so choosing one after *An outlier with little data* does not carry
that preset's outlier into another world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hierdash.scenario.core import Scenario

__all__ = ["Preset", "PRESETS", "apply_preset", "matching_preset"]


@dataclass(frozen=True)
class Preset:
    """One ready-made world.

    Parameters
    ----------
    label
        Short name for a button.
    samples
        Sample count per task; its length is the number of tasks.
    description
        One sentence: what the world is.
    look_for
        One sentence: what to look at once it is fitted.
    settings
        Other scenario fields the preset sets, as ``(field, value)`` pairs.
    """

    label: str
    samples: tuple[int, ...]
    description: str
    look_for: str
    settings: tuple[tuple[str, Any], ...] = (("outlier_task", -1),)


PRESETS: dict[str, Preset] = {
    "notebook": Preset(
        label="Notebook's world",
        samples=(100, 80),
        description="Two tasks with 100 and 80 samples, as in the original notebook.",
        look_for=(
            "With this much data each task's own estimate is already good: the arrows "
            "in the shrinkage chart are barely visible."
        ),
    ),
    "balanced": Preset(
        label="Balanced",
        samples=(20,) * 8,
        description="Eight tasks with 20 samples each.",
        look_for=(
            "Every task has the same amount of data, so every task is pulled toward "
            "the parent by about the same share."
        ),
    ),
    "one_rich": Preset(
        label="One rich, many small",
        samples=(300,) + (6,) * 9,
        description="One task with 300 samples among nine with 6 each.",
        look_for=(
            "The rich task keeps its own estimate; the small ones are pulled hard "
            "toward the parent."
        ),
    ),
    "empty_task": Preset(
        label="A task with no data",
        samples=(60, 40, 20, 0),
        description="Three tasks with data and a fourth with none at all.",
        look_for=(
            "The empty task has no estimate of its own: its weights are the parent's, "
            "with intervals as wide as the child spread."
        ),
    ),
    "many_tiny": Preset(
        label="Many tiny tasks",
        samples=(5,) * 30,
        description="Thirty tasks with 5 samples each.",
        look_for=(
            "Each task alone is noisy (long arrows), but together they pin down the "
            "parent well: partial pooling beats no pooling by a wide margin."
        ),
    ),
    "outlier": Preset(
        label="An outlier with little data",
        samples=(60, 60, 60, 60, 3),
        description=(
            "Four tasks with 60 samples and a fifth with 3 whose true weights sit 4 child "
            "spreads off the parent, in a noisy world (noise sd 4, two features)."
        ),
        look_for=(
            "Partial pooling pulls the outlier task (3 rows) toward the parent and so away "
            "from its true weights (red ticks): on this task pooling usually does worse than "
            "the task alone, the price of assuming every task is like the others."
        ),
        settings=(("outlier_task", 4), ("outlier_shift", 4.0), ("n_features", 2),
                  ("noise_sd", 4.0)),
    ),
}


def apply_preset(scenario: Scenario, name: str) -> Scenario:
    """Return ``scenario`` with preset ``name``'s sample counts and settings.

    Parameters
    ----------
    scenario
        The scenario to change.
    name
        A key of :data:`PRESETS`.

    Returns
    -------
    Scenario
        A validated copy; fields the preset does not name are unchanged.

    Raises
    ------
    KeyError
        If ``name`` is not a preset.
    """
    preset = PRESETS[name]
    return scenario.replace(samples=preset.samples, **dict(preset.settings))


def matching_preset(scenario: Scenario) -> str | None:
    """The name of the preset whose sample counts (and settings) ``scenario`` has, if any."""
    for name, preset in PRESETS.items():
        if scenario.samples == preset.samples and all(
            getattr(scenario, field) == value for field, value in preset.settings
        ):
            return name
    return None
