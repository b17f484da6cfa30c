"""Predict, then reveal: score a student's guess of how far each task is pulled.

The *pull* of a task is the share of the way its partial-pooling estimate moved from the
task's own (no-pooling) estimate toward the parent: 0 keeps its own estimate, 1 lands
on the parent. It is :func:`hierdash.summaries.pulls_toward_parent`, the one formula
behind the pull chart too (the least-squares slope over features of ``own - partial`` on
``own - parent``), here applied to the exact posterior so the answer is there at once.
A task without rows has no estimate of its own and takes the parent's: its pull is 1. A
task with rows but too few to estimate its weights alone has no pull to predict and is
not scored.

A yes/no or count world is pooled on its link scale, so its pulls are measured there: the
weights, own estimates and exact (quadrature) means are in log-odds or log rate, and
the same formula applies unchanged. The share of the way is not the same once the link
is undone (a probability near 0 or 1 moves little for a long way in log-odds).

Two misreadings this exercise meets: "the task with the fewest rows moves furthest"
(it moves the largest *share*, not always the largest *distance*: a task whose own
estimate sits near the parent has little distance to go), and "every task moves the
same share" (the share grows as a task's rows shrink).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hierdash.summaries.tables import pulls_toward_parent

__all__ = [
    "CLOSE_ENOUGH",
    "PullInputs",
    "FurthestTasks",
    "PredictionScore",
    "true_pulls",
    "distances_moved",
    "furthest_tasks",
    "score_prediction",
]

# A predicted pull within this of the truth counts as right (10 percentage points).
CLOSE_ENOUGH = 0.10
# A mean signed miss beyond this is a systematic over- or under-estimate.
BIAS = 0.15


def _array(name: str, value, ndim: int) -> np.ndarray:
    try:
        out = np.array(value, dtype=float)  # a copy: frozen below, never the caller's
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not allowed: must be numbers") from None
    if out.ndim != ndim:
        raise ValueError(
            f"{name} shape = {out.shape} is not allowed: must have {ndim} dimension(s)"
        )
    return out


@dataclass(frozen=True, eq=False, kw_only=True)
class PullInputs:
    """What the pulls are computed from.

    Parameters
    ----------
    own : array, shape (T, K)
        Each task's no-pooling estimate; a row of NaN for a task without one.
    parent : array, shape (K,)
        The parent's estimate (the exact posterior mean).
    partial : array, shape (T, K)
        Each task's partial-pooling estimate (the exact posterior mean).
    samples : array of int, shape (T,)
        Each task's row count.
    """

    own: np.ndarray
    parent: np.ndarray
    partial: np.ndarray
    samples: np.ndarray

    def __post_init__(self) -> None:
        own = _array("own", self.own, 2)
        parent = _array("parent", self.parent, 1)
        partial = _array("partial", self.partial, 2)
        samples = _array("samples", self.samples, 1)
        t, k = partial.shape
        if t < 1 or k < 1:
            raise ValueError(f"partial shape = {partial.shape} is not allowed: needs a task")
        if own.shape != (t, k) or parent.shape != (k,) or samples.shape != (t,):
            raise ValueError(
                f"shapes own {own.shape}, parent {parent.shape}, samples {samples.shape} are "
                f"not allowed: must be {(t, k)}, {(k,)}, {(t,)} to match partial {(t, k)}"
            )
        if not (np.isfinite(parent).all() and np.isfinite(partial).all()):
            raise ValueError("parent and partial are not allowed to have NaN or inf")
        if np.any(np.isinf(own)):
            raise ValueError("own is not allowed to have inf: use NaN for a task without one")
        partly = np.isnan(own).any(axis=1) & ~np.isnan(own).all(axis=1)
        if partly.any():
            raise ValueError(
                f"own rows {np.flatnonzero(partly).tolist()} are not allowed: a task's "
                "estimate must be all numbers or all NaN"
            )
        if not (np.all(samples >= 0) and np.all(samples == np.round(samples))):
            raise ValueError(f"samples = {samples.tolist()} is not allowed: must be whole numbers >= 0")
        for name, value in (("own", own), ("parent", parent), ("partial", partial),
                            ("samples", samples.astype(int))):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_tasks(self) -> int:
        return self.partial.shape[0]

    @classmethod
    def from_weights(cls, weights: pd.DataFrame) -> PullInputs:
        """From a fit's tidy weights table, using its exact-posterior columns.

        Needs the columns ``level, task, feature, n, no_pooling, exact_mean``.
        """
        need = {"level", "task", "feature", "n", "no_pooling", "exact_mean"}
        if not isinstance(weights, pd.DataFrame) or not need <= set(weights.columns):
            raise ValueError(f"weights is not allowed: must be a table with columns {sorted(need)}")
        parent = weights[weights["level"] == "parent"].sort_values("feature")
        child = weights[weights["level"] == "child"].sort_values(["task", "feature"])
        k = len(parent)
        if k == 0 or len(child) == 0 or len(child) % k:
            raise ValueError("weights is not allowed: needs the parent and every task's rows")
        t = len(child) // k
        return cls(
            own=child["no_pooling"].to_numpy(dtype=float).reshape(t, k),
            parent=parent["exact_mean"].to_numpy(dtype=float),
            partial=child["exact_mean"].to_numpy(dtype=float).reshape(t, k),
            samples=child["n"].to_numpy(dtype=float).reshape(t, k)[:, 0],
        )


def true_pulls(inputs: PullInputs) -> np.ndarray:
    """Each task's pull toward the parent, shape (T,): 1 without rows, NaN if undefined
    (:func:`~hierdash.summaries.tables.pulls_toward_parent`)."""
    return pulls_toward_parent(inputs.own, inputs.parent, inputs.partial, inputs.samples)


def distances_moved(inputs: PullInputs) -> np.ndarray:
    """How far each task's estimate moved, own to partial (Euclidean), shape (T,).

    NaN for a task without an estimate of its own: it has no start point.
    """
    return np.sqrt(np.sum((inputs.own - inputs.partial) ** 2, axis=1))


@dataclass(frozen=True, kw_only=True)
class FurthestTasks:
    """Which task moves furthest, among the tasks with an estimate of their own.

    ``None`` when no task has one.
    """

    in_distance: int | None
    in_share: int | None


def furthest_tasks(inputs: PullInputs) -> FurthestTasks:
    """The answers to "which task moves furthest, in distance and in share?"."""
    pull = true_pulls(inputs)
    distance = distances_moved(inputs)
    eligible = np.isfinite(pull) & np.isfinite(distance) & (inputs.samples > 0)
    if not eligible.any():
        return FurthestTasks(in_distance=None, in_share=None)
    tasks = np.flatnonzero(eligible)
    return FurthestTasks(in_distance=int(tasks[np.argmax(distance[tasks])]),
                         in_share=int(tasks[np.argmax(pull[tasks])]))


@dataclass(frozen=True, kw_only=True)
class PredictionScore:
    """The reveal.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per task: ``task, n, predicted, true_pull, miss, scored, distance``
        (``miss`` = predicted minus the true pull clipped to [0, 1]).
    score : float or None
        100 minus the mean miss in percentage points, over the scored tasks (None if
        no task can be scored).
    right, wrong : str
        One sentence each: what the student got right, and what they got wrong.
    furthest : FurthestTasks
        The true answers to the question.
    distance_correct, share_correct : bool or None
        Whether the student's answers were right (None if not answered or no answer).
    question : str
        Feedback on the question, in words ('' if not answered).
    """

    table: pd.DataFrame
    score: float | None
    right: str
    wrong: str
    furthest: FurthestTasks
    distance_correct: bool | None
    share_correct: bool | None
    question: str


def _rows(n: int) -> str:
    return "no rows" if n == 0 else ("1 row" if n == 1 else f"{n} rows")


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _check_predictions(inputs: PullInputs, predicted, scored: np.ndarray) -> np.ndarray:
    values = _array("predicted_pull", predicted, 1)
    if values.shape != (inputs.n_tasks,):
        raise ValueError(
            f"predicted_pull length = {values.shape[0]} is not allowed: must be one per task "
            f"({inputs.n_tasks})"
        )
    bad = scored & ~((values >= 0) & (values <= 1))
    if bad.any():
        task = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"predicted_pull[{task}] = {float(values[task])!r} is not allowed: must be from 0 "
            "(keeps its own estimate) to 1 (lands on the parent)"
        )
    return values


def _check_answer(name: str, answer: int | None, n_tasks: int) -> int | None:
    if answer is None:
        return None
    if isinstance(answer, bool) or not isinstance(answer, int | np.integer) or not 0 <= answer < n_tasks:
        raise ValueError(f"{name} = {answer!r} is not allowed: must be a task from 0 to {n_tasks - 1}")
    return int(answer)


def _task(row: pd.Series) -> str:
    return f"task {int(row['task'])} ({_rows(int(row['n']))})"


def _reachable(share: float) -> float:
    return min(max(float(share), 0.0), 1.0)


def _right_sentence(table: pd.DataFrame) -> str:
    scored = table[table["scored"]]
    miss = scored["miss"].abs()
    if (miss <= CLOSE_ENOUGH).all():
        return (f"Every pull you predicted was within {_pct(CLOSE_ENOUGH)} of the true one: "
                "you read how each task's rows set its pull.")
    if len(scored) >= 2:
        truth = scored["true_pull"].clip(0, 1).to_numpy()
        guess = scored["predicted"].to_numpy()
        # Right order: every pair of tasks whose true pulls differ clearly is ranked the
        # same way by the guesses.
        pairs = [(i, j) for i in range(len(scored)) for j in range(len(scored))
                 if truth[i] - truth[j] >= CLOSE_ENOUGH]
        if pairs and all(guess[i] > guess[j] for i, j in pairs):
            most, least = scored.iloc[int(np.argmax(truth))], scored.iloc[int(np.argmin(truth))]
            return (f"You put the tasks in the right order, from {_task(most)} pulled most "
                    f"to {_task(least)} pulled least.")
    best = scored.loc[miss.idxmin()]
    return (f"Your closest guess was {_task(best)}: you said {_pct(best['predicted'])} of "
            f"the way and it moved {_pct(_reachable(best['true_pull']))}.")


def _wrong_sentence(table: pd.DataFrame) -> str:
    scored = table[table["scored"]]
    worst = scored.loc[scored["miss"].abs().idxmax()]
    if abs(worst["miss"]) <= CLOSE_ENOUGH:
        return (f"Nothing to fix: your largest miss, on {_task(worst)}, was only "
                f"{_pct(abs(worst['miss']))}.")
    # Systematic: a clear mean miss made of at least two clear misses, all one way (one
    # big miss alone is better named as it is, below).
    bias = float(scored["miss"].mean())
    over = int((scored["miss"] > CLOSE_ENOUGH).sum())
    under = int((scored["miss"] < -CLOSE_ENOUGH).sum())
    if bias >= BIAS and over >= 2 and under == 0:
        return (f"You expected more pull than there was (by {_pct(bias)} on average): the "
                "tasks' own rows counted for more, and the parent for less, than you thought.")
    if bias <= -BIAS and under >= 2 and over == 0:
        return (f"You expected less pull than there was (by {_pct(-bias)} on average): the "
                "parent counted for more, and the tasks' own rows for less, than you thought.")
    why = (" A task without rows has nothing of its own, so it takes the parent's estimate."
           if int(worst["n"]) == 0 else "")
    return (f"Your largest miss was {_task(worst)}: you said {_pct(worst['predicted'])} of "
            f"the way, but it moved {_pct(_reachable(worst['true_pull']))}.{why}")


def _question_feedback(furthest: FurthestTasks, distance: int | None, share: int | None) -> str:
    if (distance is None and share is None) or furthest.in_share is None:
        return ""
    parts = []
    for label, said, truth in (("share", share, furthest.in_share),
                               ("distance", distance, furthest.in_distance)):
        if said is None:
            continue
        verdict = "right" if said == truth else f"it was task {truth}, not task {said}"
        parts.append(f"furthest in {label}: {verdict}")
    text = "; ".join(parts) + "."
    text = text[0].upper() + text[1:]
    if furthest.in_distance != furthest.in_share:
        text += (f" The largest share (task {furthest.in_share}) is not the largest distance "
                 f"(task {furthest.in_distance}): a task whose own estimate sits far from the "
                 "parent can move further with a smaller share.")
    return text


def score_prediction(
    inputs: PullInputs,
    predicted_pull: Sequence[float] | np.ndarray,
    *,
    furthest_in_distance: int | None = None,
    furthest_in_share: int | None = None,
) -> PredictionScore:
    """Score a student's predicted pulls against the true ones.

    Parameters
    ----------
    inputs
        The world's estimates.
    predicted_pull
        One predicted pull per task, from 0 (keeps its own estimate) to 1 (lands on the
        parent). Tasks that can't be scored (rows but no estimate of their own) may
        hold anything, NaN included.
    furthest_in_distance, furthest_in_share
        The student's answers to "which task moves furthest?" (task index), if given.

    Returns
    -------
    PredictionScore

    Raises
    ------
    ValueError
        If a prediction is missing or outside [0, 1], or an answer is not a task.
    """
    if not isinstance(inputs, PullInputs):
        raise ValueError(f"inputs = {type(inputs).__name__} is not allowed: must be PullInputs")
    truth = true_pulls(inputs)
    scored = np.isfinite(truth)
    predicted = _check_predictions(inputs, predicted_pull, scored)
    distance_answer = _check_answer("furthest_in_distance", furthest_in_distance, inputs.n_tasks)
    share_answer = _check_answer("furthest_in_share", furthest_in_share, inputs.n_tasks)
    # The true pull can stray a little outside [0, 1] (the slope over several features);
    # a prediction is on [0, 1], so it is judged against the nearest reachable value.
    miss = np.where(scored, predicted - np.clip(truth, 0, 1), np.nan)
    table = pd.DataFrame({
        "task": np.arange(inputs.n_tasks), "n": inputs.samples, "predicted": predicted,
        "true_pull": truth, "miss": miss, "scored": scored, "distance": distances_moved(inputs),
    })
    furthest = furthest_tasks(inputs)

    def correct(answer: int | None, truth_task: int | None) -> bool | None:
        return None if answer is None or truth_task is None else answer == truth_task

    if not scored.any():
        return PredictionScore(
            table=table, score=None,
            right="No task here has a pull to predict.",
            wrong=("Every task with rows has too few to estimate its weights alone, so none "
                   "has an estimate of its own to move from."),
            furthest=furthest, distance_correct=None, share_correct=None, question="",
        )
    score = round(100 * (1 - float(np.mean(np.abs(miss[scored])))), 1)
    return PredictionScore(
        table=table, score=score, right=_right_sentence(table), wrong=_wrong_sentence(table),
        furthest=furthest,
        distance_correct=correct(distance_answer, furthest.in_distance),
        share_correct=correct(share_answer, furthest.in_share),
        question=_question_feedback(furthest, distance_answer, share_answer),
    )
