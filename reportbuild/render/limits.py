"""Time limits for the render's external commands, XeLaTeX and pandoc, so
that a document that makes either loop (``\\def\\x{\\x}\\x`` in a formula)
fails the render, naming the step, instead of holding the output folder's
lock for ever.

XeLaTeX's limit grows with the document: LATEX_BASE seconds (its start-up,
the fonts, the first pass of a short document) plus LATEX_PER_PAGE seconds
for each page, estimated from the LaTeX before the first pass (``pages``),
for all passes together.  pandoc's (one call per Markdown cell) grows with
the text it converts.  Both are many times what a normal render takes, so
they only ever stop a run that would not end.
"""

import math
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from ..processes import die_with, kill_group

LIMIT_VARIABLE = "REPORT_RENDER_LIMIT"      # seconds, in place of both limits (the tests shorten them)
LATEX_BASE = 60.0
LATEX_PER_PAGE = 6.0
CHARS_PER_PAGE = 6000       # LaTeX characters per page, figures aside (the --quick report: 166,000 make 27 pages)
FIGURES_PER_PAGE = 2        # the report's plots, at most 0.21 of the text height each, with their code
PANDOC_BASE = 30.0          # seconds for one pandoc call (a Markdown cell takes about 0.02 s)
PANDOC_PER_KB = 1.0
STOP_GRACE = 2.0            # seconds for a command past its limit to end on SIGINT, before SIGKILL
FIGURE = re.compile(r"\\(?:adjustimage|includegraphics)\b")


class TooLong(RuntimeError):
    """XeLaTeX or pandoc ran past its limit and was killed; the message
    names the step and the limit; ``output``: what it wrote meanwhile (the
    LaTeX log so far), or None."""

    def __init__(self, message, output=None):
        super().__init__(message)
        self.output = output


class Limit:
    """A time limit: ``seconds``, and ``what`` it is the limit for, for messages."""

    def __init__(self, seconds, what):
        self.seconds, self.what = seconds, what


def pages(latex):
    """About how many pages the LaTeX document ``latex`` makes."""
    return max(1, math.ceil(len(latex) / CHARS_PER_PAGE + len(FIGURE.findall(latex)) / FIGURES_PER_PAGE))


def _override(environ=os.environ):
    """The seconds that $REPORT_RENDER_LIMIT sets, or None."""
    try:
        return max(0.1, float(environ[LIMIT_VARIABLE]))
    except (KeyError, ValueError):
        return None


def latex_limit(latex, environ=os.environ):
    """XeLaTeX's Limit (all its passes) for the LaTeX document ``latex``."""
    override = _override(environ)
    if override is not None:
        return Limit(override, f"the limit set by {LIMIT_VARIABLE}")
    n = pages(latex)
    return Limit(LATEX_BASE + LATEX_PER_PAGE * n, f"the limit for a report of about {n} page{'s' * (n != 1)}")


def pandoc_limit(text, environ=os.environ):
    """pandoc's Limit for converting ``text``."""
    override = _override(environ)
    if override is not None:
        return Limit(override, f"the limit set by {LIMIT_VARIABLE}")
    return Limit(PANDOC_BASE + PANDOC_PER_KB * len(text) / 1000,
                 f"the limit for a Markdown text of {len(text):,} characters")


def run(command, limit, deadline, input=None, env=None, stderr=subprocess.STDOUT):
    """(exit status, stdout) of ``command``, which must end by ``deadline``
    (time.monotonic()); otherwise it is stopped with everything it started
    (``_stop``) and TooLong raised, naming ``limit``.  It is killed as well
    on the way out of any exception here (Ctrl-C) and, on Linux, when this
    process dies.  Its temporary files go where Python's do (TMPDIR): in
    the render, to ``render_folder``."""
    step = "XeLaTeX" if Path(command[0]).name == "xelatex" else command[0]
    env = dict(os.environ if env is None else env, TMPDIR=tempfile.gettempdir())   # xdvipdfmx's files too
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=stderr, env=env, start_new_session=True,
                            preexec_fn=die_with(os.getpid()))
    try:
        out, _ = proc.communicate(input, timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        out = _stop(proc)
        raise TooLong(f"{step} did not finish within {limit.seconds:.0f} s ({limit.what})",
                      out.decode("utf-8", "replace") if step == "XeLaTeX" else None) from None
    except BaseException:
        kill_group(proc)
        raise
    return proc.returncode, out


def _stop(proc):
    """Stop ``proc``, which leads its own process group (start_new_session),
    and all of that group; returns all it wrote to stdout.  SIGINT first,
    which makes TeX log where it was ("! Interruption", the line) and end,
    then, after STOP_GRACE seconds at most, SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        out, _ = proc.communicate(timeout=STOP_GRACE)
    except (OSError, subprocess.TimeoutExpired):
        out = None
    kill_group(proc)                       # what it started, and itself if it ignored SIGINT
    if out is None:
        try:
            out, _ = proc.communicate(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:   # something outside its group holds the pipe
            out = b""
    return out
