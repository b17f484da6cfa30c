"""The package's layers: data flows one way, and only the UI layer imports Streamlit.

scenario -> data -> exact / pooling -> model -> samplers -> inference -> summaries ->
charts -> ui -> app. Checked on the source (every import statement, also inside
functions) and by importing the engine in a fresh interpreter.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

import hierdash
from hierdash.scenario import METHODS, PARAMETERIZATIONS
from hierdash.ui.labels import METHOD_LABELS, PARAMETERIZATION_LABELS

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(hierdash.__file__).parent
UI = PACKAGE / "ui"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute, wherever the import statement is."""
    here = module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def sources(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if ".venv" not in p.parts)


ENGINE = [p for p in sources(PACKAGE) if UI not in p.parents]


def imports_of(paths, prefix: str) -> dict[str, set[str]]:
    hits = {}
    for path in paths:
        bad = {m for m in imported_modules(path) if m == prefix or m.startswith(prefix + ".")}
        if bad:
            hits[str(path.relative_to(ROOT))] = bad
    return hits


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


@pytest.mark.parametrize(("layer", "must_not_import"), [
    ("summaries", ("hierdash.charts", "hierdash.ui", "altair")),
    ("charts", ("hierdash.ui", "hierdash.inference")),
    ("settings.py", ("hierdash.",)),
])
def test_each_layer_imports_only_the_layers_before_it(layer, must_not_import):
    path = PACKAGE / layer
    paths = sources(path) if path.is_dir() else [path]
    for prefix in must_not_import:
        if prefix.endswith("."):  # nothing of the package at all
            assert not any(m.startswith(prefix) for p in paths for m in imported_modules(p))
        else:
            assert imports_of(paths, prefix) == {}, prefix


def test_streamlit_lives_in_the_ui_layer_and_app_only():
    users = {str(p.relative_to(ROOT)) for p in [*sources(PACKAGE), ROOT / "app.py"]
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
              *sources(PACKAGE / "summaries"), *sources(PACKAGE / "cli")]


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
    import hierdash as hd

    assert set(hd.__all__) == set(hd._EXPORTS) | {"__version__"}
