"""Phrases that state a bound, rounded the safe way, and check it in one call.

Each helper takes the values a sentence names, writes the phrase, and
returns it as a ``claims.Phrase`` whose check is the phrase itself:

    at_most([6.28, 3.1])          "at most 6.3"      (max rounded up)
    at_least([0.884, 2])          "at least 0.88"    (min rounded down)
    between([0.884, 4.83])        "from 0.88 to 4.9" (widened outward)
    within(differences)           "to within 2.3e-16" (max |difference|, up; "exactly" if all are 0)
    for_all(conds, text), never(conds, text)   text, if every / no condition holds
    number(3.14159, 3)            "3.14"             (a stated value, nearest)
    given(1e-14)                  "1e-14"            (a parameter as written, exact)
    compare(times, reference)     "slower", "faster" or "the same within the
                                  spread", from paired samples, with the ratio

Give ``bound`` (``lo``/``hi``) to state a fixed bound: the phrase then
states it, and the call raises ``ClaimFailed`` when a value lies outside it.
Without it the bound is the data's extreme, rounded the safe way to
``digits`` significant digits, so the phrase is never tighter than the data.
Values are scalars or array-likes; NaN fails every bound.
"""

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

import numpy as np

from .claims import ClaimFailed, Phrase

_MODES = {"up": ROUND_CEILING, "down": ROUND_FLOOR, "nearest": ROUND_HALF_EVEN}


def rounded(x, digits=2, direction="nearest"):
    """``x`` to ``digits`` significant digits as text ('6.3', '0.88', '2.3e-16').

    direction: "up" (the text is >= x), "down" (<= x) or "nearest".  Decimal
    arithmetic on x's shortest repr, so 6.2 stays 6.2 and 6.28 goes up to
    6.3.  Plain notation for 1e-3 <= |x| < 1e5, else e-notation.
    """
    if not isinstance(digits, int) or digits < 1:
        raise ValueError(f"digits must be a whole number >= 1, got {digits!r}")
    x = float(x)
    if not math.isfinite(x):
        raise ClaimFailed(f"cannot state {x} as a number")
    d = Decimal(repr(x))
    if d == 0:
        return "0"
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=_MODES[direction])
    if 1e-3 <= abs(q) < 1e5:
        return f"{q:f}"
    return _exponent(f"{q:.{digits - 1}e}")


def _exponent(text):
    """'2.3e-16', '1.3e5': e-notation without a plus sign or leading zeros."""
    return text.replace("e-0", "e-").replace("e+0", "e+").replace("e+", "e")


def given(value):
    """A parameter as written: the shortest form that reads back as the same
    float ('2', '1e-14', '1e10'), exact, not rounded."""
    v = float(value)
    text = f"{v:g}" if float(f"{v:g}") == v else repr(v)
    return Phrase(_exponent(text), {"kind": "value", "value": repr(v)})


def _values(values, what):
    a = np.asarray(values, dtype=float).ravel()
    if a.size == 0:
        raise ValueError(f"{what}: no values")
    if np.isnan(a).any():
        raise ClaimFailed(f"{what}: a value is NaN: {a.tolist()}")
    return a


def number(value, digits=2):
    """A stated value, rounded to nearest ('took 1.3 s'); it bounds nothing."""
    text = rounded(value, digits)
    return Phrase(text, {"kind": "value", "value": repr(float(value))})


def at_most(values, bound=None, digits=2):
    """"at most B": B = ``bound``, or max(values) rounded up."""
    high = _values(values, "at_most").max()
    text = rounded(high if bound is None else bound, digits, "up")
    if not high <= float(text):
        raise ClaimFailed(f"the data contradict 'at most {text}': the largest value is {high!r}")
    return Phrase(f"at most {text}", {"kind": "at_most", "value": repr(float(high)), "bound": text})


def at_least(values, bound=None, digits=2):
    """"at least B": B = ``bound``, or min(values) rounded down."""
    low = _values(values, "at_least").min()
    text = rounded(low if bound is None else bound, digits, "down")
    if not low >= float(text):
        raise ClaimFailed(f"the data contradict 'at least {text}': the smallest value is {low!r}")
    return Phrase(f"at least {text}", {"kind": "at_least", "value": repr(float(low)), "bound": text})


def between(values, lo=None, hi=None, digits=2):
    """"from L to H": the values' range widened outward (or the fixed ``lo``, ``hi``)."""
    a = _values(values, "between")
    low, high = a.min(), a.max()
    lo_text = rounded(low if lo is None else lo, digits, "down")
    hi_text = rounded(high if hi is None else hi, digits, "up")
    if not (float(lo_text) <= low and high <= float(hi_text)):
        raise ClaimFailed(f"the data contradict 'from {lo_text} to {hi_text}': they range "
                          f"from {low!r} to {high!r}")
    text = lo_text if lo_text == hi_text else f"from {lo_text} to {hi_text}"
    return Phrase(text, {"kind": "between", "low": repr(float(low)), "high": repr(float(high)),
                         "lo": lo_text, "hi": hi_text})


def within(differences, bound=None, digits=2):
    """"to within B": B = ``bound``, or max |difference| rounded up; "exactly"
    when no bound is given and every difference is 0."""
    worst = np.abs(_values(differences, "within")).max()
    text = rounded(worst if bound is None else bound, digits, "up")
    if not worst <= float(text):
        raise ClaimFailed(f"the data contradict 'to within {text}': the largest difference is {worst!r}")
    words = "exactly" if bound is None and worst == 0 else f"to within {text}"
    return Phrase(words, {"kind": "at_most", "value": repr(float(worst)), "bound": text})


def for_all(conditions, text):
    """``text`` if every condition holds (a bool array or list), else ClaimFailed."""
    c = np.asarray(conditions, dtype=bool)
    if c.size == 0 or not c.all():
        raise ClaimFailed(f"the data contradict this sentence of the report: {text} "
                          f"({c.size - int(c.sum())} of {c.size} cases fail)")
    return Phrase(text, {"kind": "for_all", "holds": True, "cases": int(c.size)})


def never(conditions, text):
    """``text`` if no condition holds (a bool array or list), else ClaimFailed."""
    c = np.asarray(conditions, dtype=bool)
    if c.size == 0 or c.any():
        raise ClaimFailed(f"the data contradict this sentence of the report: {text} "
                          f"({int(c.sum())} of {c.size} cases occur)")
    return Phrase(text, {"kind": "never", "holds": True, "cases": int(c.size)})


def compare(times, reference, digits=2, center=None):
    """How measured ``times`` compare with ``reference`` times, from the samples.

    times, reference: seconds per call; of equal length when taken in
    interleaved rounds (then each round gives a ratio), else every pair is
    a ratio.  The word is "slower" when every ratio exceeds 1, "faster"
    when every ratio is below 1, else "the same within the spread" (then
    the phrase says in how many rounds the ratio was above or below 1).
    center: the ratio to state (e.g. of the medians over all samples, where
    the rounds compared are fewer); default the ratio of these medians.
    Returns a Phrase, e.g. "slower (2.0 times as long; from 1.9 to 2.1 over
    5 rounds)", with ``.word``, ``.ratio`` (the stated ratio) and
    ``.spread`` (the ratios' range, widened outward but never across 1
    when the word says all ratios lie on one side).  Noise changes the
    word, never raises.
    """
    t, r = _values(times, "compare"), _values(reference, "compare")
    if (t <= 0).any() or (r <= 0).any():
        raise ValueError(f"compare: times must be positive, got {t.tolist()} and {r.tolist()}")
    paired = t.size == r.size
    ratios = t / r if paired else (t[:, None] / r[None, :]).ravel()
    low, high = ratios.min(), ratios.max()
    word = "slower" if low > 1 else "faster" if high < 1 else "the same within the spread"
    central = float(np.median(t) / np.median(r)) if center is None else float(center)
    ratio = rounded(central, digits)
    spread = between(ratios, digits=digits)
    for more in range(digits + 1, digits + 6):      # "slower ... from 1.0": keep the end off 1
        if (word != "slower" or float(spread.check["lo"]) > 1) and (word != "faster" or float(spread.check["hi"]) < 1):
            break
        spread = between(ratios, digits=more)
    if paired:
        over = f"{t.size} round" + "s" * (t.size > 1)
        above, below = int((ratios > 1).sum()), int((ratios < 1).sum())
        if word.startswith("the same") and max(above, below) > 0:
            side, k = ("above", above) if above >= below else ("below", below)
            over += f"; {side} 1 in {k} of them"
    else:
        over = f"its {t.size} sample" + "s" * (t.size > 1) + f" against {r.size}"
    text = f"{word} ({ratio} times as long; {spread} over {over})"
    phrase = Phrase(text, {"kind": "compare", "word": word, "low": repr(float(low)),
                           "high": repr(float(high)), "lo": spread.check["lo"], "hi": spread.check["hi"]})
    phrase.word = Phrase(word, phrase.check)
    phrase.ratio = Phrase(ratio, {"kind": "value", "value": repr(central)})
    phrase.spread = spread
    return phrase
