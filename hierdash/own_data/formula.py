"""The model of a table of your own in the formula language of Bambi and brms, so that a
student can fit the same model there (with the priors set to the ones shown)."""

from __future__ import annotations

from hierdash.own_data.grouped import GroupedData

__all__ = ["formula", "formulas"]


def formulas(grouped: GroupedData) -> dict[str, str]:
    """The model as Bambi (Python) and brms (R) write it.

    Each group has its own weights for the intercept and every feature (``(1 + x |
    group)``), around the parent's (``1 + x``); a binomial outcome names its trials
    (Bambi ``p(y, n)``, brms ``y | trials(n)``), a Poisson one its exposure as an offset
    of ``log(exposure)``. The priors differ from these packages' defaults: set them to
    the ones shown (hierdash has one HalfNormal spread for every weight, and the groups'
    weights vary independently, ``(1 + x || group)`` in brms).

    Returns
    -------
    dict
        ``bambi`` and ``brms``: the formulas; ``bambi_family`` and ``brms_family``;
        ``bambi_call`` and ``brms_call``: a line of code that fits it (``data`` the table).
    """
    x = " + ".join(grouped.feature_columns)
    terms = ("1" if grouped.intercept else "0") + (f" + {x}" if x else "")
    rhs = f"{terms} + ({terms} | {grouped.group_column})"
    y, size = grouped.outcome_column, grouped.size_column
    family = grouped.outcome
    bambi = brms = f"{y} ~ {rhs}"
    if family == "binomial":
        bambi = f"p({y}, {size}) ~ {rhs}"
        brms = f"{y} | trials({size}) ~ {rhs}"
    elif family == "poisson" and size:
        bambi = brms = f"{y} ~ {rhs} + offset(log({size}))"
    return {
        "bambi": bambi, "brms": brms, "bambi_family": family, "brms_family": f"{family}()",
        "bambi_call": f'bmb.Model("{bambi}", data, family="{family}")',
        "brms_call": f"brm({brms}, data = data, family = {family}())",
    }


def formula(grouped: GroupedData) -> str:
    """:func:`formulas` on one line: ``Bambi: ...; brms: ...``."""
    both = formulas(grouped)
    return (f"Bambi: {both['bambi']} (family {both['bambi_family']}); "
            f"brms: {both['brms']} (family {both['brms_family']})")
