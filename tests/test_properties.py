"""Property-based tests of the one validation gate: whatever arrives ends as a valid
scenario or as a ScenarioError naming the field (and, at the command line, as exit 2 with
one line on stderr), never as another exception.
"""

from __future__ import annotations

import contextlib
import io
import math
import urllib.parse

import numpy as np
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hierdash.cli.fit_world import FLAGS, build_parser, main, scenario_from_args
from hierdash.scenario import (
    BOUNDS,
    CHOICES,
    FIELD_NAMES,
    MAX_SAMPLES_PER_TASK,
    MAX_TASKS,
    MAX_TOTAL_ROWS,
    Scenario,
    ScenarioError,
)
from hierdash.scenario.text import parse_field, parse_samples, scenario_from_mapping

FAST = settings(max_examples=100, deadline=None)
KEYS = (*FIELD_NAMES, "tasks")


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def assert_valid(s: Scenario) -> None:
    """Every field within its bounds, normalised, hashable, and round-trips via a URL."""
    assert isinstance(s, Scenario)
    for name, bound in BOUNDS.items():
        value = getattr(s, name)
        assert type(value) is (int if bound.integer else float), (name, value)
        assert math.isfinite(value) and bound.low <= value <= bound.high, (name, value)
    for name, choices in CHOICES.items():
        value = getattr(s, name)
        assert isinstance(value, str) and value in choices, (name, value)
    assert type(s.learn_spread) is bool
    assert type(s.samples) is tuple and 1 <= len(s.samples) <= MAX_TASKS
    assert all(type(n) is int and 0 <= n <= MAX_SAMPLES_PER_TASK for n in s.samples)
    assert sum(s.samples) <= MAX_TOTAL_ROWS
    hash(s)
    back, problems = scenario_from_mapping(s.to_query())
    assert problems == [] and back == s
    assert Scenario(**s.to_dict()) == s


def assert_names_field(err: BaseException, field: str | None = None) -> None:
    assert type(err) is ScenarioError, repr(err)
    msg = str(err)
    # a key longer than 40 characters is shown by its first 37 and "..."
    shown = err.field if len(err.field) <= 40 else err.field[:37] + "..."
    assert msg.startswith(shown) and "is not allowed" in msg and len(msg) < 1000
    if field is not None:
        assert err.field == field
    if err.field in BOUNDS and not ("longer than" in msg or "needs a value" in msg):
        assert BOUNDS[err.field].describe() in msg  # names the allowed range


def one_line(text: str) -> bool:
    return len(text.rstrip("\n").splitlines()) == 1


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------
def _trim(counts: list[int]) -> tuple[int, ...]:
    while sum(counts) > MAX_TOTAL_ROWS:
        counts.pop()
    return tuple(counts)


valid_samples = st.lists(st.integers(0, MAX_SAMPLES_PER_TASK), min_size=1, max_size=MAX_TASKS).map(
    _trim
)


def valid_value(name: str) -> st.SearchStrategy:
    if name in BOUNDS:
        b = BOUNDS[name]
        if b.integer:
            return st.integers(int(b.low), int(b.high))
        return st.floats(b.low, b.high, allow_subnormal=b.low <= 0 <= b.high)
    if name in CHOICES:
        return st.sampled_from(CHOICES[name])
    if name in ("learn_spread", "intercept"):
        return st.booleans()
    assert name == "samples"
    return valid_samples


def _combinable(kw: dict) -> dict:
    """``kw`` without the combinations a yes/no or count outcome refuses."""
    if kw.get("outcome", "gaussian") != "gaussian" and (
            kw.get("method") in ("advi", "fullrank_advi")
            or kw.get("parameterization") == "marginal"):
        kw = {**kw, "outcome": "gaussian"}
    return kw


valid_scenarios = st.fixed_dictionaries({}, optional={n: valid_value(n) for n in FIELD_NAMES}).map(
    lambda kw: Scenario(**_combinable(kw))
)

huge_ints = st.sampled_from([2**53 + 1, 2**64, 2**1024, -(2**1024), 10**400, 10**5000])
any_scalar = st.one_of(
    st.floats(),  # nan, inf, subnormal, huge
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.integers(),
    st.integers(-(2**2000), 2**2000),
    huge_ints,
    st.booleans(),
    st.none(),
    st.text(),
    st.text(max_size=3).map(lambda t: t * 1000),
    st.binary(max_size=10),
    st.complex_numbers(),
    st.fractions(),
    st.decimals(),
    st.lists(st.integers(-10, 2000), max_size=60),
    st.tuples(st.integers(0, 1000), st.integers(0, 1000)),
    st.lists(st.one_of(st.floats(), st.booleans(), st.text(max_size=3), huge_ints), max_size=5),
    st.dictionaries(st.integers(0, 10), st.integers(), max_size=3),
    st.sampled_from([(), [], {}, set(), frozenset({3}), object(), "nuts", "NUTS", "true"]),
    hnp.from_dtype(np.dtype("int64")),
    hnp.from_dtype(np.dtype("uint64")),
    hnp.from_dtype(np.dtype("float32")),
    hnp.from_dtype(np.dtype("float64")),
    hnp.from_dtype(np.dtype("float16")),
    hnp.from_dtype(np.dtype("bool")),
    hnp.from_dtype(np.dtype("U5")),
)
field_and_value = st.sampled_from(FIELD_NAMES).flatmap(
    lambda n: st.tuples(
        st.just(n), st.sampled_from([valid_value(n), any_scalar]).flatmap(lambda strategy: strategy)
    )
)


# Loose text, as it comes from a URL or a flag.
def _pad(prefix: str, n: int, pad: str, suffix: str) -> str:
    return prefix + pad * n + suffix


long_text = st.builds(
    _pad,
    st.sampled_from(["", "1", "5", "0", "nuts", "1,2"]),
    st.integers(1990, 2010),
    st.sampled_from([" ", "0", "x", ",1", "é"]),
    st.sampled_from(["", "x", "5", " "]),
)
number_text = st.one_of(
    st.floats().map(repr),
    st.floats().map(lambda x: f"{x:g}"),
    st.integers().map(str),
    st.integers(-(2**80), 2**80).map(lambda i: f" {i} "),
    st.sampled_from(
        [
            "",
            " ",
            "-0",
            "nan",
            "-inf",
            "Infinity",
            "1e400",
            "1e-400",
            "0x10",
            "1_000",
            "١٢",
            "５",
            "½",
            "5.",
            ".5",
            "+5",
            "1e3",
            "4294967295",
            "4294967296",
            "None",
        ]
    ),
)
samples_text = st.lists(st.integers(-5, 1200), max_size=60).map(
    lambda xs: ",".join(map(str, xs))
) | st.sampled_from(["1;2", "1,,2", ",", "5,", " 3 , 4 ", "1e3", "nan", "1.5,2"])


def valid_text(name: str) -> st.SearchStrategy:
    if name == "tasks":
        return st.integers(1, MAX_TASKS).map(str)
    if name == "samples":
        return valid_samples.map(lambda c: ",".join(map(str, c)))
    if name in ("learn_spread", "intercept"):
        return st.sampled_from(["true", "false", "1", "0", "yes", "no", "on", "off", " TRUE "])
    if name in CHOICES:
        return st.sampled_from(CHOICES[name]).flatmap(lambda c: st.sampled_from([c, c.upper()]))
    return valid_value(name).map(repr)


any_text = st.one_of(
    st.text(),
    st.text(max_size=5).map(lambda t: f"  {t}\n"),
    number_text,
    samples_text,
    long_text,
    st.sampled_from(KEYS).flatmap(valid_text),
    st.sampled_from(["true", "False", "maybe", "EXACT", "nuts ", "centred", "naive"]),
)
query_value = any_text | st.lists(any_text, max_size=4)
query_key = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(KEYS).map(str.upper),
    st.sampled_from(["_checked", " seed", "seed ", "samples[]", "", "n_tasks", "Tasks"]),
    st.text(max_size=20),
    st.text(max_size=3).map(lambda t: t * 2000),
)
unknown_key = st.one_of(
    st.sampled_from(KEYS).map(str.upper),
    st.sampled_from(["_checked", " seed", "seed ", "samples[]", "", "n_tasks", "Tasks"]),
    st.text(max_size=20).filter(lambda k: k not in KEYS),
    st.text(min_size=1, max_size=3).map(lambda t: t * 2000),
)
queries = st.dictionaries(query_key, query_value, max_size=8)


# ---------------------------------------------------------------------------
# 1. Scenario(**{field: value}) from arbitrary Python values
# ---------------------------------------------------------------------------
@FAST
@given(field_and_value)
@example(("seed", 2**1024))  # OverflowError: int too large to convert to float
@example(("parent_mean", -(2**1024)))
@example(("samples", (2**1024,)))
@example(("seed", 10**5000))  # repr() of the value would raise ValueError too
@example(("method", 10**5000))  # ScenarioError(...) itself raises ValueError from repr()
@example(("learn_spread", [10**5000]))
@example(("seed", np.int64(7)))
@example(("learn_spread", np.bool_(True)))
@example(("method", np.str_("exact")))
@example(("samples", {3: 1}))
def test_scenario_from_any_value_is_valid_or_names_the_field(fv):
    name, value = fv
    try:
        s = Scenario(**{name: value})
    except ScenarioError as err:
        event("ScenarioError")
        assert_names_field(err, name)
    else:
        event("valid")
        assert_valid(s)


numpy_arrays = st.one_of(
    hnp.arrays(
        st.sampled_from([np.dtype("int64"), np.dtype("float64"), np.dtype("bool")]),
        hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3),
    ),
    hnp.arrays(np.dtype("int64"), st.integers(1, 5), elements=st.integers(0, 1000)),
    st.sampled_from([np.array("nuts"), np.array(["nuts"]), np.array(5)]),
)


@FAST
@given(st.sampled_from(FIELD_NAMES), numpy_arrays)
@example("seed", np.array([1, 2]))  # ValueError from .item()
@example("samples", np.array(5))  # TypeError: iteration over a 0-d array
@example("method", np.array([1, 2]))  # ValueError: truth value of an array is ambiguous
@example("method", np.array("nuts"))  # accepted, stored as an (unhashable) array
def test_scenario_from_numpy_arrays_is_valid_or_names_the_field(name, value):
    try:
        s = Scenario(**{name: value})
    except ScenarioError as err:
        assert_names_field(err, name)
    else:
        assert_valid(s)


@FAST
@given(valid_scenarios, field_and_value)
@example(Scenario(), ("parameterization", 10**5000))  # ValueError from repr() in ScenarioError
def test_replace_keeps_a_valid_scenario_or_names_the_field(base, fv):
    name, value = fv
    try:
        s = base.replace(**{name: value})
    except ScenarioError as err:
        # An outcome's combination rule names the field that breaks it, which may be
        # another of the combination's fields (ADVI already set, then a count outcome).
        combined = name in COMBINED and err.field in COMBINED
        assert_names_field(err, err.field if combined else name)
    except OverflowError:  # huge ints: reported by the test above
        assume(False)
    else:
        assert_valid(s)


# ---------------------------------------------------------------------------
# 2. From query strings
# ---------------------------------------------------------------------------
COMBINED = ("samples", "method", "parameterization", "learn_spread", "outcome")


def check_loose(values, base=None):
    """strict=False never raises; strict=True agrees with it."""
    base_or_default = base or Scenario()
    s, problems = scenario_from_mapping(values, base=base, strict=False)
    assert_valid(s)
    assert isinstance(problems, list)
    for err in problems:
        assert_names_field(err)
        # A combination names one of its fields, given or not (samples' total rows,
        # the method or form a count outcome refuses).
        assert err.field in values or err.field in COMBINED, err.field
    bad = {err.field for err in problems}
    for name, raw in values.items():
        if name not in FIELD_NAMES or name == "samples":
            continue
        if name in bad:
            assert getattr(s, name) == getattr(base_or_default, name)  # the base's value stays
        else:
            assert getattr(s, name) == parse_field(name, raw)  # the value given is taken
    try:
        strict, none = scenario_from_mapping(values, base=base, strict=True)
    except ScenarioError as err:
        assert_names_field(err)
        assert problems, "strict raised where the loose reading found no problem"
        assert err.field in bad
    else:
        assert none == [] and problems == [] and strict == s
    return s, problems


@FAST
@given(queries, st.none() | valid_scenarios)
@example({"tasks": "50"}, Scenario(samples=(1000,) * 20))  # combination fails on total rows
@example({"tasks": "1" + " " * 2000 + "x"}, None)
@example({"x" * 5000: "1", "seed": ["1", "2"], "samples": []}, None)
def test_query_mapping_never_raises_when_loose(values, base):
    check_loose(values, base)


@FAST
@given(st.text() | st.lists(st.text(max_size=30), max_size=8).map("&".join))
@example("tasks=3&samples=1,2,3&seed=1&seed=%00&method=EXACT&noise_sd=-0")
@example("samples=1000&tasks=50&draws=1e2&learn_spread=ON&%FF=%FF")
def test_parse_qs_of_any_string(text):
    values = urllib.parse.parse_qs(text, keep_blank_values=True)
    check_loose(values)
    check_loose({k: v[-1] for k, v in values.items()})  # as st.query_params.to_dict()


@FAST
@given(
    valid_scenarios,
    st.sets(st.sampled_from(FIELD_NAMES), min_size=1),
    st.dictionaries(unknown_key, query_value, max_size=4),
    st.booleans(),
)
def test_valid_known_fields_are_taken_despite_garbage(s, chosen, garbage, repeat):
    query = s.to_query()
    values = dict(garbage)
    for name in chosen:
        text = query[name]
        values[name] = (
            ["junk", text] if repeat else f" {text.upper()} " if name in CHOICES else text
        )
    got, problems = scenario_from_mapping(values, strict=False)
    assert {err.field for err in problems} == set(garbage)
    for name in chosen:
        assert getattr(got, name) == getattr(s, name)


@FAST
@given(
    st.one_of(st.text(), number_text, long_text, st.lists(any_text, max_size=3)),
)
@example("1" + " " * 2000 + "x")  # truncated to "1   ..." and accepted as 1 task
@example("0" * 1999 + "5x")  # truncated to "000...05" and accepted as 5 tasks
def test_tasks_is_taken_only_when_it_is_a_whole_number_in_range(raw):
    s, problems = scenario_from_mapping({"tasks": raw}, strict=False)
    assert_valid(s)
    text = raw[-1] if isinstance(raw, list) and raw else raw
    try:
        ok = isinstance(text, str) and len(text.strip()) <= 2000 and float(text)
        ok = ok and float(ok).is_integer() and 1 <= ok <= MAX_TASKS
    except ValueError:
        ok = False
    if ok:
        assert problems == [] and s.n_tasks == int(float(text))
    else:
        assert [err.field for err in problems] == ["tasks"]


@FAST
@given(samples_text | long_text | st.text(), st.none() | st.integers(-2, 60))
def test_parse_samples_is_valid_or_names_samples(text, n_tasks):
    try:
        counts = parse_samples(text, n_tasks)
    except ScenarioError as err:
        assert err.field == "samples" and "samples" in str(err)
    else:
        assert_valid(Scenario(samples=counts))
        if n_tasks is not None:
            assert len(counts) == n_tasks


# ---------------------------------------------------------------------------
# 3. From command-line flags
# ---------------------------------------------------------------------------
FLAG_FIELDS = {**FLAGS, "tasks": "tasks"}
CHEAP = {
    "draws": st.integers(100, 200),
    "tune": st.integers(100, 200),
    "chains": st.integers(1, 2),
    "samples": st.lists(st.integers(0, 50), min_size=1, max_size=4),
}


def flag_pair(cheap: bool) -> st.SearchStrategy:
    def for_flag(flag: str) -> st.SearchStrategy:
        name = FLAG_FIELDS[flag]
        if cheap and name in CHEAP:
            good = CHEAP[name].map(
                lambda v: ",".join(map(str, v)) if isinstance(v, list) else str(v)
            )
        elif cheap and name == "tasks":
            good = st.integers(1, 4).map(str)
        else:
            good = valid_text(name)
        # (one_of would flatten any_text's branches and drown the good values)
        mix = [good, good, good, any_text] if cheap else [good, any_text]
        value = st.sampled_from(mix).flatmap(lambda strategy: strategy)
        return st.tuples(st.just(f"--{flag}"), value, st.booleans()).map(
            lambda t: [f"{t[0]}={t[1]}"] if t[2] else [t[0], t[1]]
        )

    return st.sampled_from(sorted(FLAG_FIELDS)).flatmap(for_flag)


stray_token = st.text(max_size=10).filter(lambda t: not t.startswith("-")) | st.sampled_from(
    ["--", "-", "-x", "--p", "--seedx", "---seed", "--tasks=", "--samples=1,2", "-5", "a\nb"]
)


def _insert(pairs, strays, at):
    parts = list(pairs)
    for token in strays:
        parts.insert(at % (len(parts) + 1), [token])
    return [tok for part in parts for tok in part]


# Mostly real flags with good or bad values; sometimes one stray token among them.
argvs = st.builds(
    _insert,
    st.lists(flag_pair(False), max_size=6),
    st.lists(stray_token, max_size=1) | st.just([]),
    st.integers(0, 10),
)


def parse(argv):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(argv), err.getvalue()
    except SystemExit as exc:
        msg = err.getvalue()
        assert exc.code == 2, (exc.code, msg)
        assert one_line(msg) and "Traceback" not in msg, msg
        assert msg.startswith("hierdash: error:"), msg
        return None, msg


@FAST
@given(argvs)
@example(["foo\nbar"])  # argparse echoes the raw token: a two-line message
@example(["--p=a\nb"])  # ambiguous option, echoed raw
@example(["--tasks", "50", "--samples", "1000"])
def test_flags_parse_to_a_scenario_or_exit_2_with_one_line(argv):
    args, _ = parse(argv)
    if args is None:
        event("argparse error")
        return
    try:
        s = scenario_from_args(args)
    except ScenarioError as err:
        event("scenario error")
        assert_names_field(err)
        assert err.field in FLAG_FIELDS.values()
        assert one_line(f"hierdash: error: {err}\n")  # what main prints
        return
    event("valid scenario")
    assert_valid(s)
    for name in FLAGS.values():
        raw = getattr(args, name)
        if raw is None:
            continue
        if name == "samples":
            n = None if args.tasks is None else int(float(args.tasks))
            assert s.samples == parse_samples(raw, n)
        else:
            assert getattr(s, name) == parse_field(name, raw)  # the last value given wins


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(flag_pair(True), max_size=4).map(lambda ps: [t for p in ps for t in p]))
@example(["--seed", "nan"])
@example(["--samples", "0"])
def test_main_runs_or_exits_2_with_one_line(argv):
    argv = ["--draws", "100", "--samples", "10", *argv, "--method", "exact", "--quiet"]
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:
        event("exit 2")
        msg = err.getvalue()
        assert exc.code == 2, (exc.code, msg)
        assert one_line(msg) and "Traceback" not in msg and msg.startswith("hierdash: error:")
    else:
        event("fitted")
        assert code == 0, err.getvalue()
        assert out.getvalue().strip()
