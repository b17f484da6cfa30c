"""Vega-Lite specs by layout: build each chart once per layout, then only swap its numbers.

Building an Altair chart and turning it into Vega-Lite costs about 0.1 s of CPU per chart
(Altair deep-copies its objects at every layer and facet), so a page of seven charts cost
more than the fit it shows. Yet two worlds with the same tasks, sample counts and
features differ only in their numbers (posterior means, intervals, truths), and a chart
builder only carries those numbers into its data. :class:`ChartSpecs` therefore builds a
chart once per *layout* and fills later worlds' numbers into a copy of it.

How: the builder runs on a *stand-in* of its tables, in which every value cell holds a
distinct marker number. Each marker found in the spec's data says which cell goes there.
A layout is everything but the value cells: the options, the columns and their types,
the id and label columns, and which value cells are missing (NaN rows may be dropped).
A value column is a float column with some non-integer value; whole-number float columns
(a ``task`` column made float by NaN, say) are ids.

A builder may only *carry* value cells into its data. One that computes from them (a
sort order, an arrow's direction, an axis domain) is caught the first time it is seen:
it is built twice, on markers rising and falling with the cell index, and both must give
the same spec. A builder that fails this is always built in full, which is correct, only
slower; ``tests/test_chart_specs.py`` checks every page chart is templated and gives the
same spec as a full build.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

__all__ = ["ChartSpecs", "vega_spec", "arrow_datasets"]

_BASE = 7.0e12  # markers: _BASE + cell index, exact in float64 and far from any value


def vega_spec(chart: alt.TopLevelMixin, *, validate: bool = False) -> dict[str, Any]:
    """The chart's Vega-Lite spec, its data inline, without Altair's default theme.

    Streamlit renders charts with its own theme, so (as ``st.altair_chart`` does) the
    sizes Altair's default theme would add are left out. The charts are validated
    against the Vega-Lite schema by the tests; the server skips that (half the cost).
    """
    spec = chart.to_dict(validate=validate)
    if alt.theme.active == "default":
        _drop_theme(spec, alt.theme.get()())
    return spec


def arrow_datasets(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with each dataset of rows as a ``pyarrow.Table`` (the spec is changed).

    Streamlit sends chart data to the browser as Arrow. Handed rows, it builds a pandas
    DataFrame of them first and converts that: 4.8 ms for the child chart's 8 rows,
    against 0.45 ms to make and serialise the Arrow table. Handed an Arrow table (a data
    format ``st.vega_lite_chart`` accepts), it only serialises it. A dataset that Arrow
    cannot hold as it is (no rows, rows of different keys, a column of mixed types)
    stays rows, as before.
    """
    import pyarrow as pa

    datasets = spec.get("datasets", {})
    for name, rows in datasets.items():
        # Arrow takes its columns from the first row: only rows of one set of keys.
        if (isinstance(rows, list) and rows and isinstance(rows[0], dict)
                and all(isinstance(r, dict) and r.keys() == rows[0].keys() for r in rows)):
            try:
                datasets[name] = pa.Table.from_pylist(rows)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
    return spec


def _drop_theme(spec: dict, theme: dict) -> None:
    for key, value in theme.items():
        if key not in spec:
            continue
        if isinstance(value, dict) and isinstance(spec[key], dict):
            _drop_theme(spec[key], value)
            if not spec[key]:
                del spec[key]
        elif spec[key] == value:
            del spec[key]


# A table as plain columns: (name, dtype, values). pandas' own column access costs tens
# of microseconds each, and a page's tables have some twenty columns read three times.
_Columns = list[tuple[Any, Any, np.ndarray]]


def _columns_of(frame: pd.DataFrame) -> _Columns:
    return [(name, column.dtype, column.to_numpy()) for name, column in frame.items()]


def _value_columns(table: _Columns) -> list[str]:
    """Float columns holding measured values (not whole-number ids)."""
    out = []
    for name, dtype, values in table:
        if dtype.kind != "f":
            continue
        finite = values[np.isfinite(values)]
        if finite.size and np.any(finite != np.round(finite)):
            out.append(name)
    return out


def _layout(frames: tuple[pd.DataFrame, ...], tables: list[_Columns],
            columns: list[list[str]]) -> str:
    """A digest of everything in the tables but their value cells."""
    digest = hashlib.blake2b(digest_size=16)
    for frame, table, values in zip(frames, tables, columns, strict=True):
        index = frame.index
        digest.update(repr((values, frame.shape, type(index).__name__,
                            index.tolist() if not isinstance(index, pd.RangeIndex) else
                            (index.start, index.stop, index.step))).encode())
        for name, dtype, column in table:
            digest.update(repr((name, str(dtype))).encode())
            if name in values:
                digest.update(np.isfinite(column.astype(float)).tobytes())
            elif dtype.kind in "biufcmM":
                digest.update(np.ascontiguousarray(column).tobytes())
            else:  # text, categories, objects: their repr tells every value apart
                digest.update(repr(column.tolist()).encode())
    return digest.hexdigest()


def _cells(tables: list[_Columns], columns: list[list[str]]) -> np.ndarray:
    parts = [values.astype(float) for table, wanted in zip(tables, columns, strict=True)
             for name, _, values in table if name in wanted]
    return np.concatenate(parts) if parts else np.zeros(0)


def _stand_ins(frames, columns, cells: np.ndarray, *,
               falling: bool) -> tuple[pd.DataFrame, ...]:
    """The tables with each finite value cell (``cells``, in order) replaced by its marker."""
    index = np.arange(cells.size)
    markers = _BASE + (cells.size - 1 - index if falling else index)
    markers = np.where(np.isfinite(cells), markers, cells)
    out, at = [], 0
    for frame, values in zip(frames, columns, strict=True):
        frame = frame.copy()
        for name in values:
            frame[name] = markers[at:at + len(frame)]
            at += len(frame)
        out.append(frame)
    return tuple(out)


class _Template:
    """A spec whose data rows hold markers, and where each marker's cell goes."""

    def __init__(self, spec: dict[str, Any], n_cells: int, *, falling: bool):
        datasets = spec.pop("datasets", {})
        self.skeleton = json.dumps(spec)
        self.names = list(datasets)
        self.rows = {name: rows for name, rows in datasets.items()}
        self.slots: list[tuple[str, int, str, int]] = []
        for name, rows in datasets.items():
            for r, row in enumerate(rows):
                for key, value in row.items():
                    if isinstance(value, float) and value >= _BASE - 0.5:
                        k = int(round(value - _BASE))
                        self.slots.append((name, r, key, n_cells - 1 - k if falling else k))
        self.valid = all(0 <= slot[3] < n_cells for slot in self.slots) and not _has_marker(spec)

    def canonical(self) -> str:
        """The spec with markers as cell numbers and datasets numbered: for comparing."""
        rows = {name: [dict(row) for row in self.rows[name]] for name in self.names}
        for name, r, key, k in self.slots:
            rows[name][r][key] = f"cell {k}"
        text = json.dumps({"spec": self.skeleton, "data": [rows[n] for n in self.names]})
        for i, name in enumerate(self.names):
            text = text.replace(name, f"dataset {i}")
        return text

    def fill(self, cells: np.ndarray) -> dict[str, Any]:
        rows = {name: [dict(row) for row in self.rows[name]] for name in self.names}
        for name, r, key, k in self.slots:
            rows[name][r][key] = float(cells[k])
        # New names for new numbers, so that the browser redraws the new data.
        tag = hashlib.blake2b(cells.tobytes(), digest_size=8).hexdigest()
        renamed = {name: f"{name}-{tag}" for name in self.names}
        text = self.skeleton
        for old, new in renamed.items():
            text = text.replace(f'"{old}"', f'"{new}"')
        spec = json.loads(text)
        spec["datasets"] = {renamed[name]: rows[name] for name in self.names}
        return spec


def _has_marker(node: Any) -> bool:
    if isinstance(node, float):
        return node >= _BASE - 0.5
    if isinstance(node, dict):
        return any(_has_marker(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_marker(v) for v in node)
    return False


class ChartSpecs:
    """Vega-Lite specs of chart builders, built once per layout; safe to share.

    Parameters
    ----------
    size
        How many layouts to keep (least recently used go first).

    Examples
    --------
    >>> specs = ChartSpecs()
    >>> spec = specs.spec(parent_chart, weights, reference=True)  # doctest: +SKIP
    """

    def __init__(self, *, size: int = 256):
        self._size = size
        self._templates: OrderedDict[tuple, _Template] = OrderedDict()
        self._checked: dict[tuple, bool] = {}  # (builder, options) -> only carries values
        self._building: dict[tuple, threading.Event] = {}  # layouts being built now
        self._lock = threading.Lock()

    def spec(self, builder: Callable[..., alt.TopLevelMixin], *frames: pd.DataFrame,
             **options: Any) -> dict[str, Any]:
        """The spec of ``builder(*frames, **options)``: a fresh dict the caller may change."""
        tables = [_columns_of(frame) for frame in frames]
        columns = [_value_columns(table) for table in tables]
        family = (builder.__module__, builder.__qualname__, tuple(sorted(options.items())))
        try:
            key = (family, _layout(frames, tables, columns))
        except TypeError:  # cells that cannot be hashed (lists, say): no layout to share
            return vega_spec(builder(*frames, **options))
        cells = _cells(tables, columns)
        template = self._template(key, family, lambda check: self._build(
            builder, frames, columns, cells, options, check=check))
        if template is None:
            return vega_spec(builder(*frames, **options))
        return template.fill(cells)

    def _template(self, key: tuple, family: tuple, build) -> _Template | None:
        """The layout's template, built by one thread at a time: a class opening one new
        world at once would otherwise build its every chart thirty times over (about a
        second of CPU a page), and the first fits' charts as many times again."""
        while True:
            with self._lock:
                template = self._templates.get(key)
                if template is not None:
                    self._templates.move_to_end(key)
                    return template
                carries = self._checked.get(family)
                if carries is False:
                    return None
                other = self._building.get(key)
                if other is None:
                    mine = self._building[key] = threading.Event()
                    break
            other.wait(timeout=60.0)  # then look again: built, found wanting, or gone
        try:
            template = build(carries is None)
            with self._lock:
                self._checked[family] = template is not None
                if template is not None:
                    self._templates[key] = template
                    while len(self._templates) > self._size:
                        self._templates.popitem(last=False)
            return template
        finally:
            with self._lock:
                del self._building[key]
            mine.set()

    def templated(self, builder: Callable[..., alt.TopLevelMixin], **options: Any) -> bool | None:
        """Whether the builder was found to only carry values (None: not seen yet)."""
        family = (builder.__module__, builder.__qualname__, tuple(sorted(options.items())))
        with self._lock:
            return self._checked.get(family)

    @staticmethod
    def _build(builder, frames, columns, cells, options, *, check: bool) -> _Template | None:
        n_cells = cells.size
        stand_ins = _stand_ins(frames, columns, cells, falling=False)
        rising = _Template(vega_spec(builder(*stand_ins, **options)), n_cells, falling=False)
        if not rising.valid:
            return None
        if check:
            stand_ins = _stand_ins(frames, columns, cells, falling=True)
            falling = _Template(vega_spec(builder(*stand_ins, **options)), n_cells, falling=True)
            if not falling.valid or falling.canonical() != rising.canonical():
                return None
        return rising
