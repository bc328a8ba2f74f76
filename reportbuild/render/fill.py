"""Fill the values a run recorded into its notebook's Markdown.

A Markdown cell refers to a recorded value as ``{{name}}``; a code cell of
the same notebook recorded it with ``helpers.claims.record`` (an output
whose metadata carry its text and its check, ``executed.recorded_values``).
At render time every reference is replaced by the recorded text, and every
recorded check is checked again (``helpers.claims.holds``), so a sentence
can be reworded without a run and still states only what its run checked.
A reference that the run did not record, a name recorded twice, or a check
that no longer holds stops the render, naming the notebook and the value.
"""

import re

from ..executed import claims_module, recorded_values


class UnfilledValue(ValueError):
    """A Markdown reference cannot be filled from the run's records."""


def reference():
    """The pattern of a reference, ``{{name}}`` (spaces inside allowed)."""
    return re.compile(r"\{\{\s*(" + claims_module().NAME_PATTERN + r")\s*\}\}")


def values_of(nb, name):
    """{name: text} of the values executed notebook ``nb`` recorded; raises
    UnfilledValue for a name recorded twice or a check that fails
    (``name``: the notebook's file name, for the message)."""
    values, holds = {}, claims_module().holds
    for v in recorded_values(nb):
        if v["name"] in values:
            raise UnfilledValue(f"{name} recorded the value {{{{{v['name']}}}}} twice; "
                                "each name may be recorded once per run")
        if not holds(v["check"]):
            raise UnfilledValue(f"{name}: the recorded value {{{{{v['name']}}}}} = {v['text']!r} "
                                f"fails its check {v['check']}")
        values[v["name"]] = v["text"]
    return values


def fill(nb, name):
    """Replace every ``{{name}}`` in the Markdown cells of ``nb`` (in place)
    by its recorded text.  Raises UnfilledValue naming each reference the
    run did not record."""
    values, pattern = values_of(nb, name), reference()
    missing = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        missing += [m for m in pattern.findall(cell.source) if m not in values]
        cell.source = pattern.sub(lambda m: values.get(m.group(1), m.group(0)), cell.source)
    if missing:
        shown = ", ".join(f"{{{{{m}}}}}" for m in dict.fromkeys(missing))
        known = ", ".join(sorted(values)) or "none"
        raise UnfilledValue(f"{name}: its Markdown refers to {shown}, which the run did not record "
                            f"(recorded: {known}); record it with helpers.claims.record in a code cell, "
                            "or correct the name")
