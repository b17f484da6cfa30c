"""The "Your data" page through ``AppTest``: the radon example, uploads good and bad,
names as text, privacy between sessions, and a sampling fit on Fit."""

from __future__ import annotations

import codecs
import re
import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.app

SCRIPT = "from hierdash.ui.pages.your_data import render\nrender()\n"
N_CHARTS = 6  # by size, shrinkage, parent and spread, PPC means, PPC sds, LOO


def _open() -> AppTest:
    return AppTest.from_string(SCRIPT, default_timeout=240).run()


def _text(elements) -> str:
    """The elements' text, Markdown escapes undone (the page escapes data as text)."""
    return re.sub(r"\\(.)", r"\1", "\n".join(str(e.value) for e in elements))


def _raw(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _clean(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _upload(content: bytes, name: str = "table.csv", at: AppTest | None = None) -> AppTest:
    at = at or _open()
    at.radio(key="yd_source").set_value("Upload a CSV").run()
    at.file_uploader(key="yd_upload").set_value((name, content, "text/csv")).run()
    return at


def _scores(names=("north", "south", "east", "west"), sep=",") -> str:
    lines = [sep.join(["school", "hours", "score", "note"])]
    for g, name in enumerate(names):
        for i in range(3 + g):
            lines.append(sep.join([name, str(i), f"{50 + 2 * g + 1.5 * i + (i % 2)}", "x"]))
    return "\n".join(lines) + "\n"


def _error_of(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert at.error, "expected an error box"
    return _text(at.error)


def test_radon_example_shows_every_chart():
    at = _clean(_open())
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    page = _text(at.markdown)
    assert "**85 groups**, 919 rows (1 to 116 rows per group)" in page
    # The rule is shown and the priors are editable, starting at the rule's values.
    assert "rstanarm" in _text(at.caption)
    assert len([n for n in at.number_input if n.key.startswith("yd_prior_")]) == 4
    # PPC and LOO numbers are computed and shown.
    assert "groups observed outside the replicated 90% interval of the mean" in page
    assert "predicts left-out rows best" in page
    assert "exact posterior" in _text(at.caption)


def test_good_upload_with_features_and_a_formula_name():
    content = _scores(names=("north", "south", "=HYPERLINK(1)", "**bold** <b>x</b>")).encode()
    at = _clean(_upload(content))
    tag = [w.key for w in at.multiselect if w.key.startswith("yd_x_")][0]
    at.multiselect(key=tag).set_value(["hours"]).run()
    _clean(at)
    assert "**4 groups**, 18 rows" in _text(at.markdown)
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    # No group name reaches a Markdown element unescaped.
    rendered = _raw(at.markdown) + _raw(at.caption) + _raw(at.info) + _raw(at.warning)
    assert "**bold**" not in rendered and "<b>" not in rendered
    table = at.dataframe[-1].value
    assert {"north", "=HYPERLINK(1)", "**bold** <b>x</b>"} <= set(table["group"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a CSV"),
        (b"", "empty"),
        (b"a,b\n" + b"1,2\n" * (11 * 1024 * 1024 // 4), "over the limit"),
        (b"just one column\n1\n2\n", "only one column"),
        (b"g,y,x\na,1,2\na,2,3\na,3,5\n", "only one value"),
        (b"g,y,x\na,1,2\na,2,2\nb,3,2\nb,5,2\n", "is 2 in every row"),
        (b"id,y\n" + "".join(f"r{i},{i % 7}\n" for i in range(1500)).encode(), "ID column"),
        (b"g,y\n" + "".join(f"g{i},{i % 7}\ng{i},{i % 3}\n" for i in range(250)).encode(),
         "at most 200 can be fitted"),
        (b"g,y,x\na,1,2\na,two,3\nb,3,5\nb,4,1\n", "not numeric"),
        (b"g,y,x\na,1,2\na,2,3\na,3,5\na,,4\nb,3,5\nb,4,1\nb,6,2\nb,,7\n", None),  # dropped
    ],
    ids=["image", "empty", "too-big", "one-column", "one-group", "constant-feature",
         "id-column", "over-200-groups", "text-outcome", "missing"],
)
def test_bad_uploads_get_a_clear_message(content, message):
    at = _upload(content)
    # Choose the columns as a student would: outcome y, feature x.
    outcome = [w for w in at.selectbox if w.key.startswith("yd_y_")]
    if not at.error and outcome and "y" in outcome[0].options and outcome[0].value != "y":
        outcome[0].set_value("y").run()
    features = [w for w in at.multiselect if w.key.startswith("yd_x_")]
    if not at.error and features and "x" in features[0].options:
        features[0].set_value(["x"]).run()
    if message is None:
        _clean(at)
        assert "Dropped 2 of 8 rows with missing values (y: 2)" in _text(at.info)
        return
    assert message in _error_of(at)
    assert not at.get("vega_lite_chart")


def test_missing_values_refused_with_a_count():
    at = _clean(_upload(b"g,y\na,1\na,\nb,3\nb,\nb,4\n"))
    tag = [w.key for w in at.radio if w.key.startswith("yd_missing_")][0]
    at.radio(key=tag).set_value("refuse").run()
    assert "2 rows have missing values (y: 2)" in _error_of(at)


def test_text_column_as_outcome_is_refused():
    at = _clean(_upload(_scores().encode()))
    tag = [w.key for w in at.selectbox if w.key.startswith("yd_y_")][0]
    at.selectbox(key=tag).set_value("note").run()
    assert "The outcome column 'note' is not numeric" in _error_of(at)


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF16_LE + _scores(names=("Zürich", "Genève", "Bern", "Chur")).encode(
            "utf-16-le"),
        _scores(names=("Zürich", "Genève", "Bern", "Chur"), sep=";").encode("cp1252"),
        _scores(names=("Zürich", "Genève", "Bern", "Chur"), sep="\t").encode("utf-8"),
    ],
    ids=["utf16-bom", "cp1252-semicolons", "tabs"],
)
def test_odd_encodings_and_delimiters(encoded):
    at = _clean(_upload(encoded))
    assert "**4 groups**, 18 rows" in _text(at.markdown)
    assert {"Zürich", "Genève"} <= set(at.dataframe[-1].value["group"])


def test_an_upload_stays_in_its_session():
    secret = _scores(names=("alpha-secret", "beta", "gamma", "delta")).encode()
    first = _clean(_upload(secret))
    assert "alpha-secret" in set(first.dataframe[-1].value["group"])
    second = _open()
    second.radio(key="yd_source").set_value("Upload a CSV").run()
    assert "Upload a CSV file to start" in _text(second.info)
    assert not second.get("vega_lite_chart")
    assert "yd_memo" not in second.session_state or not any(
        "alpha" in repr(v) for v in second.session_state["yd_memo"].values())


def test_loo_numbers_on_the_page_match_the_engine():
    from hierdash.own_data import compare_pooling
    from hierdash.own_data.datasets import RADON, load_radon
    from hierdash.own_data.grouped import prepare_groups

    at = _clean(_open())
    shown = next(d.value for d in at.dataframe if "elpd" in d.value)
    grouped = prepare_groups(load_radon(), group=RADON["group"], y=RADON["y"],
                             x=list(RADON["x"]))
    expected = compare_pooling(grouped)
    assert shown["elpd"].to_numpy() == pytest.approx(expected["elpd"].to_numpy())
    assert expected["method"][0] == "partial_pooling"


def test_rat_tumours_show_their_estimates_on_both_scales():
    at = _open()
    at.radio(key="yd_source").set_value("Rat tumours (built in)").run()
    _clean(at)
    page = _text(at.markdown)
    assert "**71 groups**, 71 rows" in page
    assert "**267 events** (yes answers, successes or counts) of 1,739 trials: 15.4% overall" \
        in page
    assert "14 of 71 groups have no success at all" in _text(at.info)
    # Three priors (no noise), the quadrature reference, every chart but the sds' check.
    assert len([n for n in at.number_input if n.key.startswith("yd_prior_")]) == 3
    assert "quadrature reference" in _text(at.caption)
    assert len(at.get("vega_lite_chart")) == N_CHARTS - 1
    assert "Groups with no event at all:** 14 observed" in page
    assert "predicts left-out rows best" in page
    code = "\n".join(c.value for c in at.code)
    assert 'bmb.Model("p(tumors, rats) ~ 1 + (1 | experiment)"' in code
    assert "brm(tumors | trials(rats) ~ 1 + (1 | experiment)" in code
    # Methods a yes/no or count outcome can take: no ADVI.
    assert "advi" not in at.selectbox(key="yd_method_counts").options
    weights = at.dataframe[-1].value
    parent = weights[weights["level"] == "parent"].iloc[0]
    assert 0.10 < parent["natural_mean"] < 0.16 and parent["natural_scale"] == "probability"
    groups = weights[weights["level"] == "group"]
    assert groups["group"].nunique() == 71
    at.radio(key="yd_scale").set_value("natural").run()
    _clean(at)
    assert len(at.get("vega_lite_chart")) == N_CHARTS - 1


def test_outcome_choices_on_an_upload():
    rows = ["school,passed,tries,hours,note"]
    for g, name in enumerate(("north", "south", "east")):
        for i in range(4):
            rows.append(f"{name},{(i + g) % 2},{2 + i},{i},n{i}")
    at = _clean(_upload(("\n".join(rows) + "\n").encode()))
    tag = [w.key for w in at.selectbox if w.key.startswith("yd_y_")][0].removeprefix("yd_y_")
    at.selectbox(key=f"yd_y_{tag}").set_value("passed").run()
    at.selectbox(key=f"yd_outcome_{tag}").set_value("bernoulli").run()
    _clean(at)
    assert "**3 groups**, 12 rows" in _text(at.markdown)
    assert at.get("vega_lite_chart")
    # A count outcome with a text column as exposure: one sentence, no traceback.
    at.selectbox(key=f"yd_outcome_{tag}").set_value("poisson").run()
    at.selectbox(key=f"yd_exposure_{tag}").set_value("school").run()
    assert "'school' is already the group column" in _error_of(at)
    at.selectbox(key=f"yd_exposure_{tag}").set_value("note").run()
    assert "The exposure column 'note' is not numeric: data row 1 holds 'n0'" in _error_of(at)
    # Successes of trials.
    at.selectbox(key=f"yd_outcome_{tag}").set_value("binomial").run()
    at.selectbox(key=f"yd_trials_{tag}").set_value("tries").run()
    _clean(at)
    assert at.get("vega_lite_chart")


@pytest.mark.slow
def test_fit_with_nuts_on_the_page():
    at = _clean(_open())
    at.selectbox(key="yd_method").set_value("nuts").run()
    at.button(key="yd_fit").click().run()
    deadline = time.monotonic() + 600
    while "yd_job" in at.session_state:
        assert time.monotonic() < deadline, "the fit did not end in time"
        time.sleep(0.5)
        at.run()
    _clean(at)
    assert "Charts show the **NUTS (nutpie)** fit" in _text(at.caption)
    assert len(at.get("vega_lite_chart")) == N_CHARTS
    weights = at.dataframe[-1].value
    assert isinstance(weights, pd.DataFrame) and weights["group"].nunique() == 86  # + parent


def test_every_words_entry_the_page_asks_for_exists():
    import ast
    from pathlib import Path

    from hierdash.ui.pages import your_data
    from hierdash.ui.words import keys

    tree = ast.parse(Path(your_data.__file__).read_text(encoding="utf-8"))
    asked = {node.args[1].value for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say"
             and len(node.args) >= 2 and all(isinstance(a, ast.Constant) for a in node.args[:2])
             and node.args[0].value == "your_data"}
    assert len(asked) > 30
    assert asked <= set(keys("your_data")), asked - set(keys("your_data"))
