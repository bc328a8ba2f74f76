"""Sentences of the report bound to the data they state.

The report's sentences live in Markdown cells.  A number or a word that
the data choose is written there as a reference, ``{{name}}``, and a code
cell records it::

    record("pair_ulps", at_most(u64))     # helpers.bounds: "at most 6.3"

Markdown: ``every pair differs by {{pair_ulps}} units of $2^{-53}$.``  The
report fills each reference in at render time from the values the run
recorded, so a sentence can be reworded without running its notebook again;
a reference the run did not record stops the render, naming it.

A recorded value carries its check (``Phrase.check``): the phrase helpers
of ``helpers.bounds`` build the text and its check in one call, so the text
states exactly what was checked, and ``holds`` checks it again at render
time.  ``claim(condition, text)`` remains for a sentence whose condition is
not a bound: it returns ``text`` when the condition holds and raises
``ClaimFailed``, naming the sentence, when the data contradict it.

In a kernel each checked sentence shows once, as Markdown: ``claim``
shows its sentence, and ``record`` of that Phrase replaces this same output
(an update of its display, ``display_id``) by the recorded line; any other
``record`` shows one line of its own.  What the report needs is kept out of
sight, in the output's metadata (key ``CLAIM_MIME`` for a claim not
recorded, ``VALUE_MIME`` for a recorded value); the report drops these
outputs and counts the checked ones for the Reproducibility section.  This
module imports nothing at module level: the report tool loads this one
file, not the helpers package.
"""

CLAIM_MIME = "application/vnd.homework.claim+json"
VALUE_MIME = "application/vnd.homework.value+json"
NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"      # what {{name}} may hold


class ClaimFailed(AssertionError):
    """The data contradict a sentence of the report."""


class Phrase(str):
    """Text for the report together with the check it states.

    check: a JSON-ready dict, ``{"kind": ..., ...}`` (see ``holds``); kinds
        "text" and "value" state no condition.
    display_id: the id of the output that ``claim`` showed for it, which its
        first ``record`` replaces (None: nothing to replace).
    """

    def __new__(cls, text, check):
        phrase = super().__new__(cls, text)
        phrase.check = check
        phrase.display_id = None
        return phrase


def claim(condition, text):
    """Return ``text`` if ``condition`` is true; else raise ClaimFailed.

    condition: a bool (NumPy bools too) computed over exactly what the
        sentence names; an array raises TypeError (use .all() or .any()).
    text: the sentence, Markdown, with its numbers already formatted in.
    Returns a Phrase of kind "claim"; in a kernel its sentence shows as
    an output of the cell, which ``record`` of the Phrase replaces.
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"claim text must be a non-empty string, got {text!r}")
    if hasattr(condition, "shape") and getattr(condition, "ndim", 0) != 0:
        raise TypeError(f"claim condition must be a single bool, got an array of shape "
                        f"{tuple(condition.shape)} for: {text}")
    if not bool(condition):
        raise ClaimFailed(f"the data contradict this sentence of the report: {text}")
    import uuid
    phrase = Phrase(text, {"kind": "claim", "holds": True})
    phrase.display_id = f"claim-{uuid.uuid4().hex}"
    _publish(_shown(f"checked: {text}"), {CLAIM_MIME: {"text": text}}, phrase.display_id)
    return phrase


def record(name, value):
    """Record ``value`` as ``{{name}}`` for this notebook's Markdown.

    name: letters, digits and underscores, not starting with a digit.
    value: a Phrase (from ``helpers.bounds`` or ``claim``), a str (words
        chosen in code; no check), or an int (written with thousands
        separators).  A float must go through ``bounds.number`` or a bound
        helper, which say how it is rounded.
    Returns None, so that a cell ending in ``record(...)`` shows the value
    once (the record's own output), not a second time as its result.  The
    first record of a ``claim`` replaces the claim's output (in whichever
    cell it was shown); any other record shows an output of its own.
    """
    import re
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise ValueError(f"record: the name must be letters, digits and underscores "
                         f"(not starting with a digit), got {name!r}")
    if isinstance(value, Phrase):
        text, check = str(value), value.check
    elif isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"record({name!r}): expected a Phrase, a str or an int, got "
                        f"{type(value).__name__} {value!r}; format a float with helpers.bounds.number "
                        "or a bound helper")
    elif isinstance(value, str):
        text, check = value, {"kind": "text"}
    else:
        text, check = f"{value:,}", {"kind": "value", "value": str(value)}
    if not holds(check):
        raise ClaimFailed(f"record({name!r}): its check fails: {check}")
    display_id, update = getattr(value, "display_id", None), False
    if display_id is not None:          # the claim's output shows this record now, and only this one
        value.display_id, update = None, True
    _publish(_shown(f"`{{{{{name}}}}}` = {text}"), {VALUE_MIME: {"name": name, "text": text, "check": check}},
             display_id, update)


def holds(check):
    """Whether a recorded check holds (the report calls this again at render time).

    Kinds: "text", "value" (nothing stated); "claim", "for_all", "never"
    (``holds`` true); "at_most" (value <= bound); "at_least" (value >=
    bound); "between" (lo <= low and high <= hi); "compare" (the word
    agrees with the ratios' range and the stated range contains it).
    Numbers are stored as their shortest repr strings.
    """
    import math
    kind = check.get("kind")
    num = lambda key: float(check[key])
    if kind in ("text", "value"):
        return True
    if kind in ("claim", "for_all", "never"):
        return check.get("holds") is True
    if kind == "at_most":
        return num("value") <= num("bound")
    if kind == "at_least":
        return num("value") >= num("bound")
    if kind == "between":
        return num("lo") <= num("low") and num("high") <= num("hi")
    if kind == "compare":
        low, high = num("low"), num("high")
        word = "slower" if low > 1 else "faster" if high < 1 else "the same within the spread"
        return (check.get("word") == word and num("lo") <= low and high <= num("hi")
                and not any(map(math.isnan, (low, high))))
    return False


def _shown(markdown):
    """The visible part of an output: ``markdown``, rendered by Jupyter (and
    as plain text in a terminal)."""
    return {"text/markdown": markdown, "text/plain": markdown}


def _publish(data, metadata, display_id=None, update=False):
    """Show ``data`` ({mimetype: content}) as an output of the running cell,
    with ``metadata`` (kernels only; plain Python has nothing to publish to).

    display_id: an id under which the output can be replaced later (None:
        none); update: replace the output shown under ``display_id`` (in
        whichever cell it is) instead of adding one.
    """
    try:
        from IPython.core.interactiveshell import InteractiveShell
    except ImportError:
        return
    if InteractiveShell.initialized():
        from IPython.display import display
        display(data, raw=True, metadata=metadata, display_id=display_id, update=update)
