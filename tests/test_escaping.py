"""The title page's values (assignment, course, student, date: from
report.toml, --config and --name) reach the HTML and the LaTeX as text,
never as markup: a name like 'Ada & Bob_1 50%' must neither break the
HTML nor stop XeLaTeX.  The report is rendered for real, with the
templates and exporters the build uses, from one small executed fixture
notebook (tests/fixtures, as in test_render_stage.py)."""

import re
import subprocess
from pathlib import Path

from bs4 import BeautifulSoup
from system import require

from reportbuild.render import exporters
from reportbuild.render.merge import merge
from reportbuild.render.title import title_info

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = [FIXTURES / "2a_small.ipynb"]        # one part, no figure, no answer cell


def report(values):
    """The merged notebook of the tiny report for the title-page ``values``
    (keys assignment, course, date, name)."""
    config = {key: values[key] for key in ("assignment", "course", "date")}
    return merge(TINY, title_info({**config, "name": ""}, values["name"]))[0]


# --- HTML ------------------------------------------------------------------

# Each value holds a tag, an ampersand and double quotes, and a word no other
# text of the report has (so each can be found on its own).
HTML_VALUES = {"assignment": 'Homework <b>4</b> & "AD"', "course": 'APPM <b>4720</b> & "SciML"',
               "name": 'Ada <b>L</b> & "Bob"', "date": 'May <b>1</b> & "2026"'}
HTML_PLACES = {"assignment": "header.report-title h1", "course": "header.report-title div.course",
               "name": "header.report-title div.student", "date": "header.report-title div.date"}


def html_text(value):
    """``value`` as escaped HTML text: a pattern (a double quote may stay
    raw in text, or be an entity)."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "(?:\"|&#34;|&quot;)".join(map(re.escape, escaped.split('"')))


def test_title_page_values_are_escaped_in_the_html(tmp_path):
    dest = tmp_path / "report.html"
    exporters.write_html(report(HTML_VALUES), dest, FIXTURES)
    html = dest.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, features="html.parser")
    for key, value in HTML_VALUES.items():
        shown = soup.select_one(HTML_PLACES[key])
        assert shown is not None, HTML_PLACES[key]
        assert shown.get_text() == value and shown.find() is None, (key, str(shown))
        assert re.search(f">{html_text(value)}<", html), (key, value)
    assert soup.title.get_text() == HTML_VALUES["assignment"], str(soup.title)
    assert "<b>" not in html and "</b>" not in html


# --- LaTeX -----------------------------------------------------------------

# Every character LaTeX treats specially, in each value; each value starts
# with a word no other text of the report has.
LATEX_VALUES = {"assignment": r"Homework_4 & {AD} 50% $5 #1 ~x ^y \z",
                "course": r"APPM_4720 & {SciML} 9% $0 #2 ~c ^d \e",
                "name": r"Ada & Bob_1 50% $5 #2 {x} ~y ^z \w",
                "date": r"Mayday_1 & {2026} 1% $3 #4 ~m ^n \o"}
LATEX_ESCAPED = {"assignment": r"Homework\_4 \& \{AD\} 50\% \$5 \#1 \textasciitilde{}x \^{}y \textbackslash{}z",
                 "course": r"APPM\_4720 \& \{SciML\} 9\% \$0 \#2 \textasciitilde{}c \^{}d \textbackslash{}e",
                 "name": r"Ada \& Bob\_1 50\% \$5 \#2 \{x\} \textasciitilde{}y \^{}z \textbackslash{}w",
                 "date": r"Mayday\_1 \& \{2026\} 1\% \$3 \#4 \textasciitilde{}m \^{}n \textbackslash{}o"}


def latex_source(nb, tmp_path, monkeypatch):
    """The LaTeX that ``write_pdf`` hands to XeLaTeX for ``nb`` (its real
    exporter, template and filters), without running XeLaTeX: each run
    only records the .tex file and leaves a stand-in PDF and log."""
    sources, real_run = [], exporters.run

    def record(command, limit, deadline, input=None, **kw):
        if not command[0].endswith("xelatex"):          # pandoc runs for real
            return real_run(command, limit, deadline, input=input, **kw)
        filename = next(Path(c) for c in command if c.endswith(".tex"))
        sources.append(filename.read_text(encoding="utf-8"))
        filename.with_suffix(".pdf").write_bytes(b"%PDF-1.5 stand-in")
        filename.with_suffix(".log").write_text("")
        return 0, b""

    monkeypatch.setattr(exporters, "run", record)
    exporters.write_pdf(nb, tmp_path / "report.pdf", FIXTURES, tmp_path / "latex.log")
    assert sources, "write_pdf ran no LaTeX"
    return sources[0]


def test_title_page_values_are_escaped_in_the_latex(tmp_path, monkeypatch):
    require("pandoc")                   # the LaTeX export converts Markdown with pandoc
    latex = latex_source(report(LATEX_VALUES), tmp_path, monkeypatch)
    for key, value in LATEX_VALUES.items():
        word = value.split()[0].split("_")[0]
        # Every place the value appears (title, PDF metadata, title block) has it escaped.
        escaped, places = latex.count(LATEX_ESCAPED[key]), latex.count(word)
        assert escaped == places >= 1, (key, [ln.strip() for ln in latex.splitlines() if word in ln])
    assert r"{\large Ada \& Bob\_1" in latex and r"pdfauthor={Ada \& Bob\_1" in latex


def test_a_name_with_latex_specials_compiles_and_shows_in_the_pdf(tmp_path):
    require("xelatex", "pandoc", "pdfinfo")     # poppler-utils, which has pdftotext too
    values = {**LATEX_VALUES, "name": "Ada & Bob_1 50%", "date": "May 1, 2026"}
    dest = tmp_path / "report.pdf"
    exporters.write_pdf(report(values), dest, FIXTURES, tmp_path / "latex.log")
    text = subprocess.run(["pdftotext", "-l", "1", str(dest), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Ada & Bob_1 50%" in text, text[:500]
    assert values["assignment"] in text and values["course"] in text, text[:500]
