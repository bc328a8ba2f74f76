"""What the build shows about the notebooks it runs: one line per notebook
when it finishes (``status_line``), and, while one runs longer than QUIET
seconds, which of its code cells is running and, when that cell shows a
tqdm progress bar, what the bar says (``Progress``), as the workers report
it (``news.CellEvents``).

On a terminal the progress is one line, rewritten in place, naming every
notebook running at the time:

      1f_timing              cell 7 of 12: forward mode, round 3 of 7, 48 s

In a log or a pipe it is a plain line per running notebook every EVERY
seconds (15, 30, 45 s into its run):

      1f_timing              still running: cell 7 of 12: forward mode, round 3 of 7, 45 s

The bar's part goes when the bar finishes or the next cell starts.  "Cell
7 of 12" is Jupyter's number (``news.jupyter_numbers``): the 7th of the 12
non-empty code cells of the notebook in notebooks/, the one Jupyter shows
as ``In [7]`` after Restart Kernel and Run All.  papermill's injected
parameters cell is not counted (the executed copy has it, so there the
cells after the parameters cell are numbered one higher).
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


class _Run:
    """One running notebook: when it started, its current code cell, what
    that cell's tqdm bar says (or None), and when its next line is due (logs
    and pipes only)."""

    def __init__(self, start, every):
        self.start, self.cell, self.cells, self.task, self.due = start, 0, 0, None, every

    def state(self, now):
        where = f"cell {self.cell} of {self.cells}" if self.cell else "starting its kernel"
        if self.cell and self.task:
            where += f": {self.task}"
        return f"{where}, {int(now - self.start)} s"


class Progress:
    """The progress of running notebooks, shown on ``stream``.

    Call ``start(name)`` when a notebook starts, ``cell(name, number,
    cells)`` when one of its code cells starts, ``task(name, number,
    phrase)`` when the tqdm bar of that cell changes, ``show()`` now and then
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
            run = self.running[name]
            run.cell, run.cells, run.task = number, cells, None

    def task(self, name, number, phrase):
        """The tqdm bar of code cell ``number`` of ``name`` says ``phrase``
        ('forward mode, round 3 of 7'; None: no bar); ignored unless that
        cell is the one running (a late message)."""
        run = self.running.get(name)
        if run is not None and run.cell == number:
            run.task = phrase

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
