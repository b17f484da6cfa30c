"""Reading a table of your own and splitting it into groups: every bad input gets a clear
message; odd encodings and delimiters are read; the radon example loads."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hierdash.own_data.datasets import RADON, load_radon, radon_bytes
from hierdash.own_data.grouped import (
    PRIOR_FIELDS,
    DataError,
    default_priors,
    grouped_stats,
    prepare_groups,
    read_table,
    to_world,
)
from hierdash.scenario import BOUNDS, Scenario
from hierdash.world import pad, sufficient_stats

TEXT = "school,score,hours\nNorth,1.5,2\nNorth,2.5,3\nSouth,3.0,4\nSouth,4.0,1\nEast,2.0,2\n"


def small_frame() -> pd.DataFrame:
    return read_table(TEXT.encode())


def raises(match: str):
    return pytest.raises(DataError, match=match)


# ---------------------------------------------------------------------------
# read_table: encodings, delimiters, decimal commas
# ---------------------------------------------------------------------------
def test_reads_plain_utf8_with_numbers_and_text():
    frame = small_frame()
    assert list(frame.columns) == ["school", "score", "hours"]
    assert frame["score"].tolist() == [1.5, 2.5, 3.0, 4.0, 2.0]
    assert pd.api.types.is_numeric_dtype(frame["hours"])
    assert frame["school"].tolist()[:2] == ["North", "North"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1", "cp1252", "utf-16", "utf-16-be"])
def test_reads_odd_encodings(encoding):
    # utf-16 writes a BOM; utf-16-be does not (recognised by its zero bytes).
    name = "Sant’Anna" if encoding == "cp1252" else "Québec"
    text = f"école,note\n{name},1.5\n{name},2\nLyon,3\n"
    frame = read_table(text.encode(encoding))
    assert list(frame.columns) == ["école", "note"]  # no BOM left in the first name
    assert frame["école"].tolist() == [name, name, "Lyon"]
    assert frame["note"].tolist() == [1.5, 2.0, 3.0]


def test_reads_utf16_le_with_bom_and_crlf():
    raw = codecs.BOM_UTF16_LE + "g,y\r\na,1\r\nb,2\r\n".encode("utf-16-le")
    assert read_table(raw)["y"].tolist() == [1, 2]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_sniffs_the_delimiter(delimiter):
    text = TEXT.replace(",", delimiter)
    frame = read_table(text.encode())
    assert list(frame.columns) == ["school", "score", "hours"]
    assert frame["score"].tolist() == [1.5, 2.5, 3.0, 4.0, 2.0]


def test_semicolon_files_read_decimal_commas():
    text = "Gruppe;Wert;x\nA;1,5;2\nA;-0,25;3\nB;1e3;,5\nB;7;1.5\n"
    frame = read_table(text.encode("cp1252"))
    assert frame["Wert"].tolist() == [1.5, -0.25, 1000.0, 7.0]
    assert frame["x"].tolist() == [2.0, 3.0, 0.5, 1.5]


def test_quoted_commas_spaces_missing_markers_and_trailing_separator():
    text = 'g, y ,x,\n"Smith, J", 1 ,NA,\nLee,2, 3 ,\nLee,,4,\n'
    frame = read_table(text.encode())
    assert list(frame.columns) == ["g", "y", "x"]  # the empty trailing column is gone
    assert frame["g"].tolist() == ["Smith, J", "Lee", "Lee"]
    assert frame["y"].iloc[:2].tolist() == [1, 2] and pd.isna(frame["y"].iloc[2])
    assert pd.isna(frame["x"].iloc[0]) and frame["x"].iloc[1] == 3


def test_reads_paths(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(TEXT.encode("utf-16"))
    assert read_table(path).shape == (5, 3)
    assert read_table(str(path)).shape == (5, 3)


# ---------------------------------------------------------------------------
# read_table: files that are not usable tables
# ---------------------------------------------------------------------------
def test_refuses_files_over_the_size_limit(tmp_path):
    raw = TEXT.encode() * 10
    with raises(r"The file is 780 bytes, over the limit of 100 bytes\. Upload a smaller"):
        read_table(raw, max_bytes=100)
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with raises("over the limit of 100 bytes"):
        read_table(path, max_bytes=100)
    big = b"g,y\n" + b"a,1\n" * (11 * 1024 * 1024 // 4)
    with raises(r"The file is 11 MB, over the limit of 10 MB"):
        read_table(big)


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "a PNG image"),
        (b"PK\x03\x04" + bytes(100), r"an Excel workbook \(\.xlsx\)"),
        (b"%PDF-1.7\n", "a PDF"),
        (bytes(range(256)) * 4, "a binary file"),
        (b"g,y\n" + bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 20, "a binary file"),
    ],
)
def test_refuses_files_that_are_not_csv(raw, what):
    with raises(f"not a CSV table: it looks like {what}.*Save your table as CSV"):
        read_table(raw)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("  \n\n \t\n", "The file is empty"),
        ("score\n1\n2\n", r"only one column \(its first line reads 'score'\)"),
        ("g,y\n", "a header line but no rows of data"),
        ("g,y\na,1\nb,2,3\n", "Line 3 has 3 values but the header has 2 columns"),
        ("g,y,g \na,1,2\n", "Two columns are both named 'g'"),
    ],
)
def test_refuses_tables_it_cannot_use(text, message):
    with raises(message):
        read_table(text.encode())


def test_option_and_path_errors():
    with raises("There is no file"):
        read_table("/no/such/file.csv")
    with pytest.raises(ValueError, match="source = int"):
        read_table(3)
    with pytest.raises(ValueError, match="max_bytes"):
        read_table(b"a,b\n1,2\n", max_bytes=0)


# ---------------------------------------------------------------------------
# prepare_groups
# ---------------------------------------------------------------------------
def test_groups_in_sorted_order_with_intercept_first():
    grouped = prepare_groups(small_frame(), group="school", y="score", x=["hours"])
    assert grouped.group_names == ("East", "North", "South")
    assert grouped.counts.tolist() == [1, 2, 2]
    assert grouped.feature_names == ("intercept", "hours")
    np.testing.assert_array_equal(grouped.X[1], [[1, 2], [1, 3]])
    np.testing.assert_array_equal(grouped.y[2], [3.0, 4.0])
    assert grouped.rows["school"].tolist() == ["East", "North", "North", "South", "South"]
    assert grouped.n_dropped == 0 and grouped.n_rows == 5


def test_numeric_groups_sort_as_numbers_and_are_named_as_text():
    frame = pd.DataFrame({"id": [10.0, 2.0, 10.0, 2.0], "y": [1.0, 2.0, 3.0, 5.0]})
    grouped = prepare_groups(frame, group="id", y="y", x=[])
    assert grouped.group_names == ("2", "10")
    assert grouped.feature_names == ("intercept",)


def test_unknown_column_is_named_with_the_columns_available():
    with raises(r"There is no column 'scores'\. Did you mean 'score'\? The columns are: "
                r"'school', 'score', 'hours'\."):
        prepare_groups(small_frame(), group="school", y="scores", x=["hours"])


def test_non_numeric_outcome_shows_a_bad_value_as_text():
    frame = small_frame()
    with raises(r"The outcome column 'school' is not numeric: data row 1 holds 'North' "
                r"\(5 rows are not a number\)"):
        prepare_groups(frame, group="hours", y="school", x=[])


def test_non_numeric_feature_shows_a_bad_value_as_text():
    frame = small_frame().assign(label=["1", "2", "**three**", "4", ""])
    with raises(r"The feature column 'label' is not numeric: data row 3 holds "
                r"'\*\*three\*\*' \(1 row is not a number\)"):
        prepare_groups(frame, group="school", y="score", x=["label"])


def test_decimal_commas_in_a_comma_file_get_a_hint():
    frame = read_table(b'g,y\na,"1,5"\nb,"2,25"\n')
    with raises(r"holds '1,5' \(2 rows are not a number\)\. It looks like a decimal comma"):
        prepare_groups(frame, group="g", y="y", x=[])


def test_old_mac_line_endings_and_blank_lines():
    assert read_table(b"g,y\ra,1\rb,2\r")["y"].tolist() == [1, 2]
    assert read_table(b"\n\ng;y\n\na;1,5\n\nb;2\n\n")["y"].tolist() == [1.5, 2.0]


def test_infinite_values_are_refused():
    frame = small_frame().assign(score=[1.0, np.inf, 2.0, 3.0, 1.0])
    with raises("holds an infinite value in data row 2"):
        prepare_groups(frame, group="school", y="score", x=[])


def test_missing_values_dropped_and_counted_or_refused():
    frame = read_table(b"g,y,x\na,1,1\na,,2\nb,3,\nb,4,5\n,5,6\nc,2,2\nc,3,1\n")
    grouped = prepare_groups(frame, group="g", y="y", x=["x"])
    assert grouped.n_dropped == 3 and grouped.n_rows == 4
    assert grouped.notes[0] == "Dropped 3 of 7 rows with missing values (g: 1, y: 1, x: 1)."
    with raises(r"3 rows have missing values \(g: 1, y: 1, x: 1\)"):
        prepare_groups(frame, group="g", y="y", x=["x"], missing="refuse")
    with raises("Every row has a missing value"):
        prepare_groups(frame.assign(x=np.nan), group="g", y="y", x=["x"])


def test_constant_feature_refused_with_an_intercept_only():
    frame = small_frame().assign(one=3.0)
    with raises("'one' is 3 in every row: with an intercept it can't be told apart from "
                "the intercept"):
        prepare_groups(frame, group="school", y="score", x=["one"])
    grouped = prepare_groups(frame, group="school", y="score", x=["one"], intercept=False)
    assert grouped.feature_names == ("one",)
    with raises("'zero' is 0 in every row"):
        prepare_groups(frame.assign(zero=0), group="school", y="score", x=["zero"],
                       intercept=False)


def test_collinear_features_refused():
    frame = small_frame()
    frame["double"] = 2 * frame["hours"] + 1
    with raises("'double' is a combination of 'intercept', 'hours'"):
        prepare_groups(frame, group="school", y="score", x=["hours", "double"])


def test_single_group_refused():
    frame = small_frame().assign(school="North")
    with raises("has only one value \\('North'\\): there is nothing to pool"):
        prepare_groups(frame, group="school", y="score", x=[])


def test_thousands_of_groups_refused_as_an_id_column():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(5312), "y": rng.normal(size=5312)})
    with raises("'id' has 5,312 distinct values .* did you pick an ID column"):
        prepare_groups(frame, group="id", y="y", x=[])


def test_two_hundred_groups_and_a_hundred_thousand_rows_accepted():
    rng = np.random.default_rng(1)
    n = 100_000
    frame = pd.DataFrame({"g": rng.integers(0, 200, n).astype(str), "x": rng.normal(size=n)})
    frame["y"] = 2 * frame["x"] + rng.normal(size=n)
    grouped = prepare_groups(frame, group="g", y="y", x=["x"])
    assert grouped.n_groups == 200 and grouped.n_rows == n


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"y": "school"}, "The outcome and the group are the same column"),
        ({"x": ["score"]}, "'score' is already the outcome column"),
        ({"x": ["hours", "hours"]}, "'hours' is chosen twice"),
        ({"x": [], "intercept": False}, "Choose at least one feature"),
    ],
)
def test_column_roles_are_checked(options, message):
    chosen = {"group": "school", "y": "score", "x": ["hours"], **options}
    with raises(message):
        prepare_groups(small_frame(), **chosen)


def test_at_most_eight_weights():
    frame = small_frame()
    for j in range(8):
        frame[f"f{j}"] = np.arange(5) ** (j % 3) + j
    with raises(r"9 weights per group \(an intercept and 8 features\): at most 8"):
        prepare_groups(frame, group="school", y="score", x=[f"f{j}" for j in range(8)])


def test_constant_outcome_refused():
    with raises("The outcome 'score' is 2 in every row"):
        prepare_groups(small_frame().assign(score=2.0), group="school", y="score", x=[])


@pytest.mark.parametrize(
    ("options", "message"),
    [({"x": "hours"}, "x = 'hours' is not allowed"),
     ({"missing": "keep"}, "missing = 'keep' is not allowed: must be drop or refuse"),
     ({"max_groups": 1}, "max_groups = 1 is not allowed"),
     ({"intercept": 1}, "intercept = 1 is not allowed")],
)
def test_bad_options_are_value_errors(options, message):
    chosen = {"group": "school", "y": "score", "x": ["hours"], **options}
    with pytest.raises(ValueError, match=message):
        prepare_groups(small_frame(), **chosen)


def test_standardise_and_back_to_the_original_scale():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"g": np.repeat(["a", "b", "c"], 20), "u": rng.normal(5, 3, 60),
                          "v": rng.normal(-2, 0.1, 60)})
    frame["y"] = 1 + 0.5 * frame["u"] - 4 * frame["v"] + rng.normal(size=60)
    raw = prepare_groups(frame, group="g", y="y", x=["u", "v"])
    std = prepare_groups(frame, group="g", y="y", x=["u", "v"], standardise=True)
    Xs = np.concatenate(std.X)
    np.testing.assert_allclose(Xs[:, 1:].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xs[:, 1:].std(axis=0), 1)
    y = np.concatenate(std.y)
    b_std = np.linalg.lstsq(Xs, y, rcond=None)[0]
    b_raw = np.linalg.lstsq(np.concatenate(raw.X), y, rcond=None)[0]
    np.testing.assert_allclose(std.to_original_scale(b_std), b_raw, rtol=1e-9)
    np.testing.assert_array_equal(raw.to_original_scale(b_raw), b_raw)
    # Without an intercept: scaled to root mean square 1, not centred.
    plain = prepare_groups(frame, group="g", y="y", x=["u", "v"], intercept=False,
                           standardise=True)
    Xp = np.concatenate(plain.X)
    np.testing.assert_allclose(np.sqrt((Xp**2).mean(axis=0)), 1)
    b_plain = np.linalg.lstsq(Xp, y, rcond=None)[0]
    b_orig = np.linalg.lstsq(frame[["u", "v"]].to_numpy(), y, rcond=None)[0]
    np.testing.assert_allclose(plain.to_original_scale(b_plain), b_orig, rtol=1e-9)
    with pytest.raises(ValueError, match="weights shape"):
        std.to_original_scale(np.zeros(2))


def test_notes_flag_groups_that_cannot_be_fitted_alone():
    frame = small_frame().assign(region=[1.0, 1.0, 2.0, 2.0, 3.0])
    grouped = prepare_groups(frame, group="school", y="score", x=["region"])
    assert grouped.notes[0].startswith("3 of 3 groups can't be estimated alone")
    assert "'region' is constant within every group" in grouped.notes[1]


# ---------------------------------------------------------------------------
# The radon example, statistics, the World and the priors
# ---------------------------------------------------------------------------
def test_radon_loads():
    frame = load_radon()
    assert list(frame.columns) == ["county", "floor", "log_uranium", "log_radon"]
    assert len(frame) == 919
    grouped = prepare_groups(frame, **RADON)
    assert grouped.n_groups == 85
    assert grouped.counts.min() == 1 and grouped.counts.max() == 116
    assert grouped.group_names[0] == "AITKIN" and grouped.n_rows == 919
    assert radon_bytes().startswith(b"county,floor,log_uranium,log_radon")
    readme = Path(__file__).parents[2] / "hierdash" / "own_data" / "builtin" / "README.md"
    assert "National Residential Radon" in readme.read_text()


def test_to_world_and_stats_match_the_engine():
    grouped = prepare_groups(small_frame(), group="school", y="score", x=["hours"])
    scenario = Scenario(n_features=2, samples=tuple(grouped.counts.tolist()))
    world = to_world(grouped, scenario)
    assert world.parent.shape == (2,) and np.all(np.isnan(world.parent))
    assert world.child.shape == (3, 2) and np.all(np.isnan(world.child))
    assert world.counts.tolist() == [1, 2, 2]
    ours, engine = grouped_stats(grouped), sufficient_stats(pad(world))
    for name in ("XtX", "Xty", "yty", "n"):
        np.testing.assert_allclose(getattr(ours, name), getattr(engine, name))
    with pytest.raises(ValueError, match="n_features = 3"):
        to_world(grouped, scenario.replace(n_features=3))
    with pytest.raises(ValueError, match="scenario.samples"):
        to_world(grouped, scenario.replace(samples=(2, 2, 1)))


def test_default_priors_follow_the_stated_rule_and_scale_with_y():
    grouped = prepare_groups(load_radon(), **RADON)
    priors = default_priors(grouped)
    assert set(priors) == {*PRIOR_FIELDS, "rule"} and "sd(y)" in priors["rule"]
    y, x = np.concatenate(grouped.y), np.concatenate(grouped.X)[:, 1]
    natural = y.std(ddof=1) / x.std(ddof=1)
    assert priors["prior_parent_mean"] == 0
    assert priors["prior_noise_scale"] == pytest.approx(y.std(ddof=1), rel=5e-3)
    assert priors["prior_spread_scale"] == pytest.approx(natural, rel=5e-3)
    assert priors["prior_parent_scale"] == pytest.approx(2.5 * natural, rel=5e-3)
    scaled = load_radon().assign(log_radon=lambda f: 10 * f["log_radon"])
    tenfold = default_priors(prepare_groups(scaled, **RADON))
    for name in PRIOR_FIELDS[1:]:
        assert tenfold[name] == pytest.approx(10 * priors[name], rel=5e-3)
    for name in PRIOR_FIELDS:
        assert BOUNDS[name].low <= priors[name] <= BOUNDS[name].high


def test_default_priors_clipped_to_the_bounds_say_so():
    frame = small_frame().assign(score=lambda f: 1e6 * f["score"])
    priors = default_priors(prepare_groups(frame, group="school", y="score", x=["hours"]))
    assert priors["prior_noise_scale"] == BOUNDS["prior_noise_scale"].high
    assert "Clipped to the allowed range" in priors["rule"]
