"""helpers.bounds: each phrase states its bound rounded the safe way, checks
exactly what it states, and fails when a value lies outside a stated bound;
``compare`` words measured times by their samples and never raises on noise."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import bounds
from helpers.bounds import (
    at_least,
    at_most,
    between,
    compare,
    for_all,
    never,
    number,
    rounded,
    within,
)
from helpers.claims import ClaimFailed, Phrase, holds, record

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@pytest.mark.parametrize("value, digits, up, down", [
    (6.28, 2, "6.3", "6.2"), (6.2, 2, "6.2", "6.2"), (11.09, 2, "12", "11"), (11.09, 3, "11.1", "11.0"),
    (1.045, 3, "1.05", "1.04"), (0.884, 2, "0.89", "0.88"), (2.27e-16, 2, "2.3e-16", "2.2e-16"),
    (-6.28, 2, "-6.2", "-6.3"), (9.96, 2, "10.0", "9.9"), (123456.0, 2, "1.3e5", "1.2e5"), (0.0, 2, "0", "0"),
])
def test_rounding_goes_the_safe_way(value, digits, up, down):
    assert rounded(value, digits, "up") == up
    assert rounded(value, digits, "down") == down


@settings(max_examples=300, deadline=None)
@given(finite, st.integers(1, 6))
def test_rounded_up_is_never_below_and_down_never_above(x, digits):
    assert float(rounded(x, digits, "up")) >= x
    assert float(rounded(x, digits, "down")) <= x


def test_the_reported_bounds_of_the_report_round_the_safe_way():
    """The three bounds a strict read found rounded the wrong way."""
    assert at_most(6.28) == "at most 6.3"            # was "at most 6"
    assert at_most(11.09, digits=3) == "at most 11.1"  # was "within 11"
    assert at_most(1.045, digits=3) == "at most 1.05"  # was "at most 1.04"
    assert at_least([0.884, 4.83]) == "at least 0.88"
    assert between([0.884, 4.83]) == "from 0.88 to 4.9"
    assert within([-2.27e-16, 1e-17]) == "to within 2.3e-16"


@pytest.mark.parametrize("helper, values, bound", [
    (at_most, [1.0, 6.4], 6.3), (at_least, [0.5, 2.0], 0.8), (within, [1e-15, -3e-15], 2e-15),
])
def test_a_value_outside_a_stated_bound_fails(helper, values, bound):
    with pytest.raises(ClaimFailed, match="contradict"):
        helper(values, bound)
    inside = helper([bound], bound)
    assert holds(inside.check)


def test_between_fails_outside_its_stated_range_and_widens_outward():
    with pytest.raises(ClaimFailed):
        between([0.7, 1.2], lo=0.8, hi=1.5)
    with pytest.raises(ClaimFailed):
        between([0.9, 1.6], lo=0.8, hi=1.5)
    assert between([0.9, 1.2], lo=0.8, hi=1.5) == "from 0.80 to 1.5"
    assert between([3.0, 3.0]) == "3.0"


@pytest.mark.parametrize("helper", [at_most, at_least, between, within])
def test_nan_fails_every_bound(helper):
    with pytest.raises(ClaimFailed, match="NaN"):
        helper([1.0, math.nan])


def test_for_all_and_never_check_every_case():
    assert for_all(np.array([1, 2, 3]) > 0, "all positive") == "all positive"
    with pytest.raises(ClaimFailed, match="1 of 3 cases fail"):
        for_all(np.array([1, -2, 3]) > 0, "all positive")
    assert never(np.array([1, 2]) < 0, "none negative") == "none negative"
    with pytest.raises(ClaimFailed, match="1 of 2 cases occur"):
        never(np.array([1, -2]) < 0, "none negative")
    with pytest.raises(ClaimFailed):
        for_all([], "vacuous")


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=8), st.integers(1, 4))
def test_every_phrase_holds_for_its_own_data(values, digits):
    for phrase in (at_most(values, digits=digits), at_least(values, digits=digits),
                   between(values, digits=digits), within(values, digits=digits)):
        assert isinstance(phrase, Phrase) and holds(phrase.check)


def test_a_tampered_check_no_longer_holds():
    """The render checks a recorded value again: a value moved past its bound fails."""
    check = dict(at_most(6.28).check, value="6.31")
    assert not holds(check)
    assert not holds({"kind": "unknown"})


def test_compare_words_by_the_samples():
    slower = compare([2.0, 2.1, 1.9], [1.0, 1.0, 1.0])
    assert slower.word == "slower" and slower.ratio == "2.0" and slower.spread == "from 1.9 to 2.1"
    assert str(slower) == "slower (2.0 times as long; from 1.9 to 2.1 over 3 rounds)"
    assert compare([0.5, 0.6], [1.0, 1.0]).word == "faster"
    assert compare([0.9, 1.2, 1.0], [1.0, 1.0, 1.0]).word == "the same within the spread"
    unpaired = compare([0.5, 0.6], [1.0, 1.05, 0.9])
    assert unpaired.word == "faster" and "over its 2 samples against 3" in unpaired
    mixed = compare([0.6, 0.7, 1.02, 0.65, 0.62, 0.64, 0.7], [1.0] * 7, digits=3)
    assert str(mixed) == ("the same within the spread (0.650 times as long; from 0.600 to 1.02 over 7 rounds; "
                          "below 1 in 6 of them)")
    near = compare([1.005, 1.2], [1.0, 1.0])        # the low end never reads "1.0" beside "slower"
    assert near.word == "slower" and near.spread == "from 1.005 to 1.200" and holds(near.check)
    assert compare([2.0, 2.2], [1.0, 1.0], center=2.05).ratio == "2.0"
    for phrase in (slower, slower.word, unpaired):
        assert holds(phrase.check)
    with pytest.raises(ValueError, match="positive"):
        compare([0.0], [1.0])


def test_a_planted_timing_inversion_changes_the_words_and_raises_nothing():
    """Forward mode timed faster than reverse mode, against the counts: the
    words follow the samples, and nothing fails."""
    reverse = [0.070, 0.072, 0.075]
    assert compare([9.0, 9.5, 9.1], reverse).word == "slower"
    inverted = compare([0.050, 0.049, 0.052], reverse)
    assert inverted.word == "faster" and holds(inverted.check)
    noisy = compare([0.050, 0.090, 0.052], reverse)
    assert noisy.word == "the same within the spread"


def test_within_says_exactly_only_when_every_difference_is_zero():
    assert within([0.0, -0.0]) == "exactly" and holds(within([0.0]).check)
    assert within([0.0, 1e-17]) == "to within 1.0e-17"
    assert within([0.0], bound=1e-15) == "to within 1.0e-15"     # a stated bound is stated


@pytest.mark.parametrize("value, text", [(2.0, "2"), (1e-14, "1e-14"), (1e10, "1e10"), (1e6, "1e6"), (1e5, "100000"),
                                         (2.5e-8, "2.5e-8"), (1.0000001, "1.0000001"), (0.1, "0.1")])
def test_given_writes_a_parameter_exactly(value, text):
    assert bounds.given(value) == text and float(bounds.given(value)) == value    # (given: hypothesis's)


def test_number_and_record(monkeypatch):
    from helpers import claims

    shown = []
    monkeypatch.setattr(claims, "_publish", lambda data, metadata, *how: shown.append((data, metadata[claims.VALUE_MIME])))
    assert number(3.14159, 3) == "3.14" and holds(number(2.5).check)
    assert record("n_points", 12345) is None
    record("bound", at_most(6.28))
    record("words", "faster")
    assert [(v["name"], v["text"], d["text/markdown"]) for d, v in shown] == [
        ("n_points", "12,345", "`{{n_points}}` = 12,345"), ("bound", "at most 6.3", "`{{bound}}` = at most 6.3"),
        ("words", "faster", "`{{words}}` = faster")]
    assert shown[1][1]["check"] == {"kind": "at_most", "value": "6.28", "bound": "6.3"}
    with pytest.raises(TypeError, match="helpers.bounds.number"):
        record("x", 6.28)
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        record("1x", "a")
