"""What a notebook's tqdm progress bar says, read from the text it writes
to stderr (``latest_task``), for the build's progress line.

tqdm redraws its bar in place: each update writes ``\\r`` and the bar's
new text, in its default format

    forward mode:  29%|##8       | 2/7 [00:10<00:20, 5.10s/round]
    forward mode: 2round [00:10, 5.10s/round]          (total unknown)

The count (2) is of finished units, so the unit running is the third:
"forward mode, round 3 of 7".  A bar ends with ``\\n`` after its last
text (``leave=True``) or is erased with blanks between two ``\\r``
(``leave=False``).  Other formats (``bar_format``, ``unit_scale``, a bar
cut to a narrow ``ncols``) and any other text are not read.  The tool
reads the text only; it does not import tqdm.
"""

import re

# ESC [ ... letter: a colour (tqdm's ``colour``) or a cursor move (nested bars)
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# "{desc}: " is there only when desc is; greedy, since a desc may hold ": "
_DESC = r"(?:(?P<desc>.*): )?"
_CLOCK = r"-?[\d:]+"     # tqdm's [H:]MM:SS
_WITH_TOTAL = re.compile(
    _DESC + r"\s*\d{1,3}%(?:\|[^|]*\|)? (?P<n>\d+)/(?P<total>\d+) "
    r"\[" + _CLOCK + r"<(?:\?|" + _CLOCK + r"), (?P<rate>[^\],]+)(?:, .*)?\]")
_WITHOUT_TOTAL = re.compile(
    _DESC + r"(?P<n>\d+)(?P<unit>[^\[\d][^\[]*) \[" + _CLOCK + r", [^\],]+(?:, .*)?\]")
# the rate names the unit: "5.10s/round" (slower than 1 a second) or "2.00round/s", "?round/s"
_SI = r"[kMGTPEZY]?"
_SECONDS_PER = re.compile(r"\s*[\d.]+" + _SI + r"s/(?P<unit>.+)")
_PER_SECOND = re.compile(r"\s*(?:\?|[\d.]+" + _SI + r")(?P<unit>.+)/s")
_TAIL = 1000            # characters of an unfinished line kept for the next chunk


def task_phrase(desc, unit, n, total):
    """'forward mode, round 3 of 7' for ``n`` of ``total`` units finished
    (``total`` None: 'forward mode, round 3'); None when all are."""
    if total is not None and n >= total:
        return None
    count = f"{'iteration' if unit == 'it' else unit} {n + 1}" + (f" of {total}" if total is not None else "")
    return f"{desc}, {count}" if desc else count


def _phrase(line):
    """The phrase for one line of tqdm's text; ... when it is not a bar."""
    line = line.rstrip()        # tqdm pads a shorter line with blanks
    found = _WITH_TOTAL.fullmatch(line)
    if found:
        rate = _SECONDS_PER.fullmatch(found["rate"]) or _PER_SECOND.fullmatch(found["rate"])
        if not rate:
            return ...
        return task_phrase(found["desc"], rate["unit"], int(found["n"]), int(found["total"]))
    found = _WITHOUT_TOTAL.fullmatch(line)
    if found:
        return task_phrase(found["desc"], found["unit"], int(found["n"]), None)
    return ...


def latest_task(text, current=None):
    """What the last tqdm bar in ``text`` (a chunk of stderr, or several
    joined) is doing: a phrase such as 'forward mode, round 3 of 7'; None
    once it is finished, closed or erased; ``current`` when ``text`` holds
    no bar at all (a warning, a print).  cost: O(len(text))."""
    parts = re.split(r"([\r\n])", _ESCAPE.sub("", text))
    for i in range(0, len(parts), 2):
        line, before = parts[i], parts[i - 1] if i else ""
        after = parts[i + 1] if i + 1 < len(parts) else ""
        phrase = _phrase(line)
        if phrase is not ...:
            current = None if after == "\n" else phrase     # "\n" after a bar: leave=True's close
        elif before == "\r" and line and not line.strip():  # blanks between "\r"s: leave=False's erase
            current = None
    return current


def unfinished(text):
    """The end of ``text`` after its last ``\\r`` or ``\\n`` (at most _TAIL
    characters): a bar's line that a later chunk may end with ``\\n``."""
    cut = max(text.rfind("\r"), text.rfind("\n"))
    return text[cut:][-_TAIL:] if cut >= 0 else text[-_TAIL:]
