"""What the build shows about the notebooks it runs: one line per notebook
when it finishes (``status_line``), and, while one runs longer than QUIET
seconds, which of its code cells is running (``Progress``), as the workers
report it (``CellEvents``).

On a terminal the progress is one line, rewritten in place, naming every
notebook running at the time:

      1f_timing              cell 7 of 12, 48 s

In a log or a pipe it is a plain line per running notebook every EVERY
seconds (15, 30, 45 s into its run):

      1f_timing              still running: cell 7 of 12, 45 s

"Cell 7 of 12" counts the code cells that run, the injected parameters
included, so cell 7 is the one numbered ``In [7]`` in the executed copy.
"""

import os
import shutil
import sys
import time
from pathlib import Path

NAME_WIDTH = 22
QUIET = 5.0     # seconds: a notebook that finishes sooner shows nothing extra
EVERY = 15.0    # seconds between a notebook's lines in a log or pipe
EVERY_VARIABLE = "REPORT_PROGRESS_EVERY"    # overrides EVERY (the tests shorten it)
ERASE = "\x1b[K"        # erases to the end of the terminal's line


def status_line(src, status):
    """The build's one line about a notebook: its name, then its run time,
    that its outputs were reused, or (while it runs) its progress."""
    return f"  {Path(src).stem:<{NAME_WIDTH}} {status}"


def every_from_environment(environ=os.environ):
    """EVERY, or the seconds that $REPORT_PROGRESS_EVERY sets."""
    try:
        return max(0.1, float(environ[EVERY_VARIABLE]))
    except (KeyError, ValueError):
        return EVERY


class CellEvents:
    """In a worker: nbclient hooks (``hooks()``, for papermill to pass on)
    that put (notebook, cell number, cells) on the build's queue ``events``
    as each code cell starts.  Cells that nbclient skips (empty ones) are
    not counted, so cell k is the executed copy's ``In [k]``."""

    def __init__(self, name, events):
        self.name, self.events, self.number, self.cells = name, events, 0, 0

    def hooks(self):
        return {"on_notebook_start": self.notebook_start, "on_cell_execute": self.cell_execute}

    def notebook_start(self, notebook, **_):
        self.cells = sum(1 for c in notebook.cells if c.cell_type == "code" and c.source.strip())

    def cell_execute(self, cell, cell_index, **_):
        self.number += 1
        self.events.put((self.name, self.number, self.cells))


class _Run:
    """One running notebook: when it started, its current code cell, and
    when its next line is due (logs and pipes only)."""

    def __init__(self, start, every):
        self.start, self.cell, self.cells, self.due = start, 0, 0, every

    def state(self, now):
        where = f"cell {self.cell} of {self.cells}" if self.cell else "starting its kernel"
        return f"{where}, {int(now - self.start)} s"


class Progress:
    """The progress of running notebooks, shown on ``stream``.

    Call ``start(name)`` when a notebook starts, ``cell(name, number,
    cells)`` when one of its code cells starts, ``show()`` now and then
    (a few times a second), and ``finish(name)`` before printing its
    ``status_line``; ``clear()`` at the end (it erases the terminal line),
    or use it in a ``with`` statement, which clears on the way out.
    ``tty`` (default: ``stream.isatty()``) picks the terminal's one line;
    ``columns()`` is the terminal's width (the line is cut to fit, since a
    wrapped line cannot be rewritten); ``clock`` gives seconds.
    """

    def __init__(self, stream=None, clock=time.monotonic, tty=None, columns=None,
                 quiet=QUIET, every=None):
        self.stream = sys.stdout if stream is None else stream
        self.clock = clock
        self.tty = self.stream.isatty() if tty is None else tty
        self.columns = columns or (lambda: shutil.get_terminal_size().columns)
        self.quiet = quiet
        self.every = every_from_environment() if every is None else every
        self.running = {}       # name: _Run, in the order they started
        self.shown = ""         # what the terminal's progress line holds now

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.clear()

    def start(self, name):
        self.running[name] = _Run(self.clock(), self.every)

    def cell(self, name, number, cells):
        """Code cell ``number`` (1-based) of ``cells`` of ``name`` started;
        ignored for a notebook that is not running (a late message)."""
        if name in self.running:
            self.running[name].cell, self.running[name].cells = number, cells

    def finish(self, name):
        """``name`` stopped: forget it and erase the line, ready for its status line."""
        self.running.pop(name, None)
        self.clear()

    def show(self):
        """Bring the display up to date: rewrite the terminal line, or print
        the lines that are due in a log."""
        now = self.clock()
        if self.tty:
            self._draw(self._line(now))
            return
        for name, run in self.running.items():
            if now - run.start >= run.due:
                self._write(status_line(name, f"still running: {run.state(now)}") + "\n")
                run.due = ((now - run.start) // self.every + 1) * self.every

    def clear(self):
        """Erase the terminal's progress line (nothing in a log), and what
        the terminal echoed after it (a ^C)."""
        if self.shown:
            self._write("\r" + ERASE)
            self.shown = ""

    def _line(self, now):
        """Every notebook running for QUIET seconds or more, on one line."""
        long = [(name, run.state(now)) for name, run in self.running.items() if now - run.start >= self.quiet]
        if not long:
            return ""
        (first, state), others = long[0], long[1:]
        line = "  |  ".join([status_line(first, state)] + [f"{name}: {state}" for name, state in others])
        return line[:max(self.columns() - 1, 0)]

    def _draw(self, line):
        if line == self.shown:
            return
        if not line:
            self.clear()
            return
        self._write("\r" + line + ERASE)
        self.shown = line

    def _write(self, text):
        self.stream.write(text)
        self.stream.flush()
