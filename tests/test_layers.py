"""The package's layers: data flows one way, and the folders are the layers.

Checked on the source: every import statement, also inside functions and under
``TYPE_CHECKING``. An import ``from X import y`` is an edge to ``X`` and, when ``X.y``
is a module, to ``X.y``; ``import X.Y`` is an edge to ``X.Y``. A module's own package
facade is not an edge of its own (Python runs it first, but it is not what the module
asked for). Then by importing the engine in a fresh interpreter.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
import tomllib
from collections import deque
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import hierdash
from hierdash.scenario import METHODS, PARAMETERIZATIONS
from hierdash.ui.labels import METHOD_LABELS, PARAMETERIZATION_LABELS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(hierdash.__file__).parent
UI = PACKAGE / "ui"

# ---------------------------------------------------------------------------
# The layers, as data: docs/architecture.md's table, top to bottom
# ---------------------------------------------------------------------------
# Each row is a set of layers, each layer a name and its module prefixes (a prefix
# holds the module of that name and every module under it; the most specific prefix
# wins). A module may import its own layer and the rows above its own; the layers of
# one row are side by side and never import each other.
LAYERS: list[dict[str, tuple[str, ...]]] = [
    {"settings": ("hierdash.settings", "hierdash.values")},  # shared numbers and checks
    {"scenario": ("hierdash.scenario",)},
    {"outcomes": ("hierdash.outcomes",)},  # the outcome families and their reference
    {"world": ("hierdash.world",)},
    {"exact": ("hierdash.exact",)},
    {"models": ("hierdash.inference.models",),
     "fit steps": ("hierdash.inference.prepare", "hierdash.inference.results",
                   "hierdash.inference.diagnostics", "hierdash.inference.summarise")},
    {"samplers": ("hierdash.inference.samplers",)},
    {"inference": ("hierdash.inference",)},  # pipeline.py and the facade
    {"summaries": ("hierdash.summaries",)},
    {"own data": ("hierdash.own_data",), "calibration": ("hierdash.calibration",),
     "classroom": ("hierdash.classroom",), "neural": ("hierdash.neural",)},
    {"charts": ("hierdash.charts",)},
    {"notebook": ("hierdash",)},  # hierdash/__init__.py only: ``import hierdash as hd``
    {"cli": ("hierdash.cli", "hierdash.__main__"), "ui": ("hierdash.ui",)},
    {"app": ("app",)},
]

# What each layer may import from outside the package, besides the standard library
# (each folder's docstring says the same). None: anything.
_SCIENCE = {"numpy", "scipy", "pandas", "xarray", "arviz_base"}
_SAMPLING = {"pymc", "pytensor", "nutpie", "numba", "pyarrow"}
THIRD_PARTY: dict[str, set[str] | None] = {
    "settings": set(),
    "scenario": set(),
    "outcomes": {"numpy", "scipy"},
    "world": {"numpy"},
    "exact": {"numpy", "scipy"},
    "models": _SCIENCE | _SAMPLING,
    "fit steps": _SCIENCE | _SAMPLING,
    "samplers": _SCIENCE | _SAMPLING,
    "inference": _SCIENCE | _SAMPLING,
    "summaries": {"numpy", "pandas"},
    "own data": {"numpy", "scipy", "pandas", "xarray", "arviz_stats"},
    "calibration": {"numpy", "scipy", "pandas", "arviz_stats", "dask"},
    "classroom": {"numpy", "pandas", "sqlalchemy"},
    "neural": _SCIENCE | _SAMPLING,
    "charts": {"altair", "numpy", "pandas", "pyarrow"},
    "notebook": set(),
    "cli": set(),
    "ui": None,
    "app": None,
}
OUTSIDE = ("tests", "testkit", "benchmarks")  # import the package; never imported by it


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if ".venv" not in p.parts)


PACKAGE_SOURCES = sources(PACKAGE)
MODULES = {module_name(p): p for p in PACKAGE_SOURCES}
ENGINE = [p for p in PACKAGE_SOURCES if UI not in p.parents]


@cache
def import_lines(path: Path) -> dict[str, int]:
    """Every module ``path`` imports (absolute), with the line of its first import."""
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            found.setdefault(name, node.lineno)
    return found


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute, wherever the import statement is (a
    ``from X import y`` lists ``X.y`` too, module or not)."""
    return set(import_lines(path))


def package_edges(path: Path) -> dict[str, int]:
    """The package modules ``path`` imports (edges of the import graph), with lines."""
    me = module_name(path)
    return {m: line for m, line in import_lines(path).items() if m in MODULES and m != me}


def third_party(path: Path) -> set[str]:
    tops = {m.split(".")[0] for m in imported_modules(path)}
    return tops - set(sys.stdlib_module_names) - {"hierdash", "__future__", *OUTSIDE, "app"}


def layer_of(module: str) -> str | None:
    """The layer holding ``module``: its most specific prefix (``hierdash`` alone holds
    only the package's own facade)."""
    best, length = None, -1
    for row in LAYERS:
        for name, prefixes in row.items():
            for prefix in prefixes:
                inside = module == prefix or (
                    prefix != "hierdash" and module.startswith(prefix + "."))
                if inside and len(prefix) > length:
                    best, length = name, len(prefix)
    return best


ROW = {name: i for i, row in enumerate(LAYERS) for name in row}


def imports_of(paths, prefix: str) -> dict[str, set[str]]:
    hits = {}
    for path in paths:
        bad = {m for m in imported_modules(path) if m == prefix or m.startswith(prefix + ".")}
        if bad:
            hits[str(path.relative_to(ROOT))] = bad
    return hits


# ---------------------------------------------------------------------------
# No import cycles
# ---------------------------------------------------------------------------
def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The import cycles, each a list of modules with the first repeated at the end.

    Modules that import each other, directly or not, form a group (a strongly connected
    component, found by Tarjan's algorithm); for each module of a group this lists the
    shortest cycle through it, each cycle once.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles: dict[frozenset[tuple[str, str]], list[str]] = {}
    for group in groups:
        for start in group:
            cycle = shortest_cycle(graph, group, start)
            cycles.setdefault(frozenset(zip(cycle, cycle[1:], strict=False)), cycle)
    return list(cycles.values())


def shortest_cycle(graph: dict[str, dict[str, int]], group: list[str], start: str) -> list[str]:
    """The shortest way from ``start`` back to itself inside ``group`` (breadth first)."""
    inside = set(group)
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while (before := came_from[path[-1]]) is not None:
                    path.append(before)
                return [*reversed(path), start]
            if w in inside and w not in came_from:
                came_from[w] = v
                queue.append(w)
    raise AssertionError(f"no way back to {start} in {group}")


def describe_cycle(cycle: list[str]) -> str:
    """``a -> b (a.py:12) -> a (b.py:3)``: each step with the line of its import."""
    steps = [cycle[0]]
    for a, b in zip(cycle, cycle[1:], strict=False):
        line = package_edges(MODULES[a])[b]
        steps.append(f"-> {b} ({MODULES[a].relative_to(ROOT)}:{line})")
    return " ".join(steps)


def test_no_import_cycles():
    graph = {m: package_edges(p) for m, p in MODULES.items()}
    cycles = [describe_cycle(c) for c in import_cycles(graph)]
    assert cycles == [], "import cycles:\n" + (
        "\n".join(cycles))


def test_the_cycle_finder_sees_imports_inside_functions():
    graph = {"pkg.a": {"pkg.b": 1}, "pkg.b": {"pkg.c": 2, "pkg.d": 3}, "pkg.c": {"pkg.a": 1},
             "pkg.d": {}, "pkg.e": {"pkg.e": 1}}
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    assert import_cycles({"x": {"y": 1}, "y": {}}) == []
    # The dispatcher imports each command inside main(): those are edges too.
    assert {"hierdash.cli.calibrate", "hierdash.cli.fit_data", "hierdash.cli.fit_world"} <= set(
        package_edges(MODULES["hierdash.cli.dispatch"]))


def test_no_module_imports_the_facade_of_its_own_folder():
    """Inside a folder, modules import each other directly: its facade imports them,
    so a module importing it back is a cycle in waiting (the calibration lab and its
    Dask runner once imported ``hierdash.calibration``). The package's own lazy facade,
    ``hierdash``, is the notebook's and may be named (``from hierdash import charts``)."""
    inward = []
    for name, path in MODULES.items():
        # the folders above it, short of the package: a.b.c.d -> {a.b, a.b.c}
        folders = {".".join(name.split(".")[:i]) for i in range(2, name.count(".") + 1)}
        inward += [f"{path.relative_to(ROOT)}:{line} imports {target}"
                   for target, line in package_edges(path).items() if target in folders]
    assert inward == []


# ---------------------------------------------------------------------------
# Every layer imports only its own layer and those above it
# ---------------------------------------------------------------------------
def test_every_module_is_in_one_layer():
    assert {m: layer_of(m) for m in MODULES if layer_of(m) is None} == {}
    assert layer_of("hierdash") == "notebook" and layer_of("hierdash.inference.pipeline") == (
        "inference")
    assert layer_of("hierdash.inference.samplers.common") == "samplers"
    every_prefix = [p for row in LAYERS for prefixes in row.values() for p in prefixes]
    assert len(every_prefix) == len(set(every_prefix))
    assert set(THIRD_PARTY) == set(ROW)


def test_each_layer_imports_only_itself_and_the_layers_above_it():
    bad = []
    for path in [*PACKAGE_SOURCES, ROOT / "app.py"]:
        me = module_name(path)
        mine = layer_of(me)
        for target, line in import_lines(path).items():
            if target not in MODULES or target == me:
                continue
            theirs = layer_of(target)
            if theirs != mine and ROW[theirs] >= ROW[mine]:
                bad.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {target} "
                           f"({theirs})")
    assert bad == []


def test_each_layer_uses_only_its_own_libraries():
    bad = {}
    for path in [*PACKAGE_SOURCES, ROOT / "app.py"]:
        allowed = THIRD_PARTY[layer_of(module_name(path))]
        if allowed is not None and (extra := third_party(path) - allowed):
            bad[str(path.relative_to(ROOT))] = extra
    assert bad == {}


def test_the_package_never_imports_the_tests_the_harness_or_the_app():
    for prefix in ("app", *OUTSIDE):
        assert imports_of(PACKAGE_SOURCES, prefix) == {}, prefix


def test_benchmarks_and_the_harness_never_import_the_tests():
    users = [*sources(ROOT / "benchmarks"), *sources(ROOT / "testkit")]
    assert len(users) > 5
    assert imports_of(users, "tests") == {}
    assert imports_of(sources(ROOT / "testkit"), "benchmarks") == {}


def test_the_wheel_holds_the_package_and_not_the_harness():
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]
    include, exclude = find.get("include", ["*"]), find.get("exclude", [])

    def shipped(package: str) -> bool:
        return (any(fnmatchcase(package, p) for p in include)
                and not any(fnmatchcase(package, p) for p in exclude))

    folders = {module_name(p.parent) for p in PACKAGE_SOURCES}
    assert all(shipped(f) for f in folders), sorted(f for f in folders if not shipped(f))
    for outside in OUTSIDE:
        assert not shipped(outside) and not shipped(f"{outside}.anything"), outside


def test_no_two_modules_of_a_layer_share_a_file_name():
    seen: dict[tuple[str, str], str] = {}
    twins = []
    for name, path in MODULES.items():
        if path.name == "__init__.py":
            continue
        key = (layer_of(name), path.name)
        if key in seen:
            twins.append((seen[key], name))
        seen[key] = name
    assert twins == []


# ---------------------------------------------------------------------------
# Facades: every name has one home, every folder states its rule
# ---------------------------------------------------------------------------
FACADES = [p for p in PACKAGE_SOURCES if p.name == "__init__.py" and p.parent != PACKAGE]


def facade_exports(path: Path) -> dict[str, str]:
    """A facade's ``__all__`` names, each with the module it comes from (the facade's
    own name for what it defines itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    origin: dict[str, str] = {}
    public: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = node.module if not node.level else module_name(path)
            for alias in node.names:
                origin[alias.asname or alias.name] = module
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            public = [ast.literal_eval(e) for e in node.value.elts]
    return {name: origin.get(name, module_name(path)) for name in public}


def test_a_facade_exports_only_its_own_folder():
    assert len(FACADES) >= 10
    strays = {}
    for path in FACADES:
        folder = module_name(path)
        for name, home in facade_exports(path).items():
            if home != folder and not home.startswith(folder + "."):
                strays[f"{folder}.{name}"] = home
    assert strays == {}


def test_every_layer_folder_states_its_import_rule():
    """Each top-level folder's docstring, and each folder that is a layer of its own
    (``inference/models``, ``inference/samplers``), says what its modules may import."""
    layer_folders = [p for p in FACADES
                     if p.parent.parent == PACKAGE or layer_of(module_name(p)) not in (
                         layer_of(module_name(p.parent.parent)), None)]
    assert len(layer_folders) >= 10
    missing = [str(p.relative_to(ROOT)) for p in layer_folders
               if "Import rule:" not in (ast.get_docstring(ast.parse(p.read_text())) or "")]
    assert missing == []


def test_no_module_repeats_a_shared_number():
    """The settings' numbers live in ``hierdash.settings`` only: no module defines one
    again or lists it in its ``__all__`` as if it were its own."""
    import hierdash.settings as settings

    shared = set(settings.__all__)
    repeats = []
    for path in PACKAGE_SOURCES:
        if path in (PACKAGE / "settings.py", PACKAGE / "__init__.py"):  # the notebook's
            continue  # API lists every public name, CI_PROB included, by design
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                repeats += [f"{module_name(path)}: {n} =" for n in names & shared]
                if "__all__" in names:
                    listed = {ast.literal_eval(e) for e in node.value.elts}
                    repeats += [f"{module_name(path)}.__all__: {n}" for n in listed & shared]
    assert repeats == []


# ---------------------------------------------------------------------------
# Streamlit stays in the UI
# ---------------------------------------------------------------------------
def test_the_engine_never_imports_streamlit():
    assert len(ENGINE) > 10
    assert imports_of(ENGINE, "streamlit") == {}


def test_the_engine_never_imports_the_ui():
    assert imports_of(ENGINE, "hierdash.ui") == {}


def test_importing_the_engine_loads_no_streamlit():
    engine_modules = sorted({module_name(p) for p in ENGINE} - {"hierdash.__main__"})
    code = (
        "import importlib, sys\n"
        f"for name in {engine_modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
        "print(len(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "0"


def test_streamlit_lives_in_the_ui_layer_and_app_only():
    users = {str(p.relative_to(ROOT)) for p in [*PACKAGE_SOURCES, ROOT / "app.py"]
             if imports_of([p], "streamlit")}
    assert users and all(u == "app.py" or u.startswith("hierdash/ui/") for u in users)
    # The registry of running fits is shared with worker threads: no Streamlit in it.
    assert imports_of([UI / "fit_registry.py"], "streamlit") == {}


def test_app_py_is_thin():
    assert len((ROOT / "app.py").read_text().splitlines()) < 100


# ---------------------------------------------------------------------------
# One source for each fact
# ---------------------------------------------------------------------------
MY_SOURCES = [ROOT / "app.py", *sources(UI), *sources(PACKAGE / "charts"),
              *sources(PACKAGE / "summaries"), *sources(PACKAGE / "cli"),
              *sources(PACKAGE / "neural")]


def test_no_interval_probability_is_written_by_hand():
    words_files = sorted((UI / "words").glob("*.md"))
    for path in [*MY_SOURCES, *words_files]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b94 ?%|0\.94\b", text), path


def test_every_choice_has_a_label():
    assert set(METHOD_LABELS) == set(METHODS)
    assert set(PARAMETERIZATION_LABELS) == set(PARAMETERIZATIONS)


def test_modules_stay_short():
    long = {str(p.relative_to(ROOT)): n for p in MY_SOURCES + sources(PACKAGE / "exact")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


# ---------------------------------------------------------------------------
# The public API, for notebooks
# ---------------------------------------------------------------------------
def test_every_public_name_resolves():
    import hierdash as hd

    assert len(hd.__all__) > 25
    for name in hd.__all__:
        assert getattr(hd, name) is not None, name
    assert set(hd.__all__) <= set(dir(hd))
    with pytest.raises(AttributeError, match="no_such_thing"):
        hd.no_such_thing  # noqa: B018


def test_importing_the_package_is_light():
    code = ("import sys, hierdash as hd; s = hd.Scenario(samples=(3, 2)); "
            "print(sorted(m for m in ('pymc', 'pytensor', 'streamlit', 'altair') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_notebook_fits_a_scenario_and_a_world_of_its_own():
    import hierdash as hd

    s = hd.Scenario(samples=(100, 80, 5), method="exact", draws=200)
    r = hd.fit(s)
    assert isinstance(r, hd.FitResult)
    assert len(r.weights) == (1 + 3) * s.n_features
    # The same world handed over explicitly gives the same fit ...
    w = hd.simulate(s)
    same = hd.fit(s, world=w)
    assert np.array_equal(same.weights["mean"], r.weights["mean"])
    # ... and an edited one is fitted as it is.
    edited = dataclasses.replace(w, y=tuple(y + 5.0 for y in w.y))
    moved = hd.fit(s, world=edited)
    assert not np.allclose(moved.weights["exact_mean"], r.weights["exact_mean"])
    for chart in (hd.parent_chart(r.weights), hd.shrinkage_chart(r.weights),
                  hd.pull_chart(hd.task_pull(r.weights)),
                  hd.rmse_chart(hd.comparable_errors(r.weights))):
        chart.to_dict()


def test_pyproject_installs_the_requirements():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["build-system"]["build-backend"] == "setuptools.build_meta"
    assert "dependencies" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["dependencies"]["file"] == [
        "requirements.txt"]
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert pins and all("==" in pin for pin in pins)  # pinned together, no options


def test_the_public_names_and_their_modules_agree():
    import importlib

    import hierdash as hd

    assert set(hd.__all__) == set(hd._EXPORTS) | set(hd._FOLDERS) | {"__version__"}
    # A folder offered whole (hd.neural) is that folder's facade.
    for name, module in hd._FOLDERS.items():
        assert getattr(hd, name) is importlib.import_module(module)
    # Each name is taken from its home: the facade (or module) that lists it.
    for name, module in hd._EXPORTS.items():
        assert name in importlib.import_module(module).__all__, (name, module)
