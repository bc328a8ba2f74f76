"""The live source of a function, highlighted, for the notebooks.

The parts show the code they discuss where they discuss it.
``show_source(fn)`` reads the source with ``inspect`` at run time, so the
report prints exactly the code that computed its numbers; the execution
cache re-runs a notebook whenever a file under helpers/ changes.
"""

import inspect
from pathlib import Path

from IPython.display import display
from pygments import highlight
from pygments.formatters import HtmlFormatter, LatexFormatter
from pygments.lexers import PythonLexer

ROOT = Path(__file__).resolve().parents[1]      # the folder holding helpers/
# The PDF sets code in \footnotesize (reportbuild/render/templates/homework.tex.j2),
# about 0.8 \baselineskip of the 10pt prose a line; the header line and the
# box's padding take about 2 more, and a page's text height holds about 57.
CODE_LINE, FRAME, PAGE = 0.8, 2, 57


def keep_together(n_lines):
    """LaTeX that starts a listing of ``n_lines`` lines on a new page unless
    the rest of this one holds it (``\\Needspace``): empty for a listing too
    long for any page, which breaks across pages."""
    height = FRAME + CODE_LINE * n_lines
    return f"\\Needspace{{{height:.1f}\\baselineskip}}\n" if height <= PAGE else ""


class Listing:
    """One function's source and where it lives (``helpers/x.py, lines a-b``).

    Displayed as highlighted HTML in Jupyter and the HTML report, as a
    highlighted Verbatim block in the PDF (on one page when it fits on
    one), and as the bare source in plain text (``repr``), which is what
    tests compare with ``inspect.getsource``.
    """

    def __init__(self, fn):
        lines, first = inspect.getsourcelines(fn)
        path = Path(inspect.getsourcefile(fn)).resolve()
        try:
            path = path.relative_to(ROOT)
        except ValueError:
            pass
        self.name = fn.__qualname__
        self.source = "".join(lines)
        self.where = f"{path.as_posix()}, lines {first}-{first + len(lines) - 1}"

    def __repr__(self):
        return self.source

    def _repr_html_(self):
        code = highlight(self.source, PythonLexer(), HtmlFormatter(
            cssclass="highlight", prestyles="font-family: var(--jp-code-font-family, monospace); "
                                            "font-size: var(--jp-code-font-size, 13px); line-height: 1.3"))
        return f'<div class="listing"><div class="listing-where">{self.where}</div>{code}</div>'

    def _repr_latex_(self):
        code = highlight(self.source, PythonLexer(), LatexFormatter())
        where = self.where.replace("_", "\\_").replace("-", "--")
        return (keep_together(len(self.source.splitlines())) +
                "\\par\\noindent{\\small\\textsf{" + where + "}}\\nopagebreak\n"
                "\\begin{tcolorbox}[breakable, size=fbox, boxrule=.5pt, pad at break*=1mm, "
                "colback=cellbackground, colframe=cellborder]\n" + code + "\\end{tcolorbox}\n")


def show_source(*functions):
    """Display the live source of each function (a ``Listing`` each)."""
    for fn in functions:
        display(Listing(fn))
