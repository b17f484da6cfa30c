"""Every setting of a world and of its fit: the frozen :class:`Scenario`, its bounds,
parsing it from text (links, flags) and the ready-made presets.

Import rule: modules here import only the standard library and :mod:`hierdash.settings`;
nothing else of the package.
"""

from hierdash.scenario.core import (
    BOUNDS,
    CHOICES,
    DATA_MAX_ROWS,
    DATA_MAX_TASKS,
    FIELD_NAMES,
    MAX_SAMPLES_PER_TASK,
    MAX_SEED,
    MAX_TASKS,
    MAX_TOTAL_ROWS,
    METHODS,
    OUTCOMES,
    PADDINGS,
    PARAMETERIZATIONS,
    SOURCES,
    Bound,
    Method,
    Outcome,
    Padding,
    Parameterization,
    Scenario,
    ScenarioError,
    Source,
)
from hierdash.scenario.outcome_defaults import OUTCOME_DEFAULTS
from hierdash.scenario.presets import PRESETS, Preset, apply_preset, matching_preset
from hierdash.scenario.text import MAX_TEXT, parse_field, parse_samples, scenario_from_mapping

__all__ = [
    "BOUNDS",
    "CHOICES",
    "DATA_MAX_ROWS",
    "DATA_MAX_TASKS",
    "FIELD_NAMES",
    "MAX_SAMPLES_PER_TASK",
    "MAX_SEED",
    "MAX_TASKS",
    "MAX_TOTAL_ROWS",
    "METHODS",
    "OUTCOME_DEFAULTS",
    "OUTCOMES",
    "PADDINGS",
    "PARAMETERIZATIONS",
    "SOURCES",
    "Bound",
    "Method",
    "Outcome",
    "Padding",
    "Parameterization",
    "Scenario",
    "ScenarioError",
    "Source",
    "PRESETS",
    "Preset",
    "apply_preset",
    "matching_preset",
    "MAX_TEXT",
    "parse_field",
    "parse_samples",
    "scenario_from_mapping",
]
