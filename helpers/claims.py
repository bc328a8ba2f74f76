"""Sentences of the report bound to the data they state.

A sentence that quotes a comparison, a range or a bound ("never faster",
"matches for N <= 4", "at most 25 steps") is built with ``claim``::

    text = claim(n_max <= 25, f"at most {n_max} steps reach roundoff")

which returns the sentence when its condition holds and raises
``ClaimFailed``, naming the sentence, when the data contradict it.  A run
whose numbers disagree with the report's words therefore stops the build.

In a notebook each checked claim is also recorded as an output of its cell
(mimetype ``CLAIM_MIME``, with a plain-text line for Jupyter); the report
drops these outputs and counts them, so the Reproducibility section can say
how many sentences this run asserted.
"""

CLAIM_MIME = "application/vnd.homework.claim+json"


class ClaimFailed(AssertionError):
    """The data contradict a sentence of the report."""


def claim(condition, text):
    """Return ``text`` if ``condition`` is true; else raise ClaimFailed.

    condition: a bool (NumPy bools too) computed over exactly what the
        sentence names; an array raises TypeError (use .all() or .any()).
    text: the sentence, Markdown, with its numbers already formatted in.
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"claim text must be a non-empty string, got {text!r}")
    if hasattr(condition, "shape") and getattr(condition, "ndim", 0) != 0:
        raise TypeError(f"claim condition must be a single bool, got an array of shape "
                        f"{tuple(condition.shape)} for: {text}")
    if not bool(condition):
        raise ClaimFailed(f"the data contradict this sentence of the report: {text}")
    _record(text)
    return text


def _record(text):
    """Publish the checked claim as an output of the running cell (kernels only)."""
    try:
        from IPython.core.interactiveshell import InteractiveShell
    except ImportError:             # plain Python without IPython: nothing to record in
        return
    if InteractiveShell.initialized():
        from IPython.display import display
        display({CLAIM_MIME: {"text": text}, "text/plain": f"[checked] {text}"}, raw=True)
