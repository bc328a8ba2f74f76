"""The render stage: the report from the executed notebooks.

Reads only the executed notebooks the run stage put in the staging folder
(through ``merge``), the title settings (through ``title``) and the
templates; writes report.ipynb, report.html, report.pdf, the PDF's page
map pages.json and the render key report.key into the same staging folder,
which ``outfolder.publish`` then makes the report.  When the render key
(``keys.render_key``) is that of the published report and all its files
are there, it renders nothing.
"""

import sys
from pathlib import Path

import nbformat

from ..exit_status import FAILED, NO_PDF, OK
from ..keys import render_key
from . import exporters, pages
from .merge import merge
from .title import NO_NAME, title_info

RENDER_KEY = "report.key"       # the render key of the report it sits beside
UP_TO_DATE = "up to date"       # render_report's status when the published report is current


def render_report(args, out, staging, executed, config):
    """Render ``executed`` (paths in ``staging``) into ``staging``.

    Returns (status, page map or None): OK; NO_PDF (no TeX: the HTML only);
    FAILED (LaTeX failed; the log is in ``out``/latex.log); or UP_TO_DATE
    (the published report in ``out`` is this one: nothing was written).
    """
    out, staging = Path(out), Path(staging)
    info = title_info(config, args.name, folder=Path(args.notebooks))
    key = render_key(executed, info, args.no_pdf)
    published = [RENDER_KEY, "report.html", "report.ipynb", *[p.name for p in staging.iterdir()]]
    published += [] if args.no_pdf else ["report.pdf", pages.PAGES_FILE]
    if (out / RENDER_KEY).exists() and (out / RENDER_KEY).read_text() == key \
            and all((out / name).exists() for name in published):
        return UP_TO_DATE, (None if args.no_pdf else pages.read_pages(out))
    missing = [] if args.no_pdf else exporters.missing_tex()
    if missing:
        print(f"warning: {' and '.join(missing)} not found: the PDF will be skipped, the HTML written", file=sys.stderr)
    merged, problems = merge(executed, info)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if info["student"] == NO_NAME:
        print("warning: no student name: set name in report.toml or pass --name", file=sys.stderr)
    notebooks = Path(args.notebooks).resolve()
    (staging / "report.ipynb").write_text(nbformat.writes(merged), encoding="utf-8")
    print("==> Rendering the HTML", flush=True)
    try:
        exporters.write_html(merged, staging / "report.html", notebooks, assets=out)
    except exporters.RenderFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return FAILED, None
    status, page_map = OK, None
    if missing:
        print(f"error: no PDF: {' and '.join(missing)} not found; {exporters.tex_hint()}", file=sys.stderr)
        status = NO_PDF
    elif not args.no_pdf:
        print("==> Rendering the PDF with XeLaTeX", flush=True)
        try:
            labels = exporters.write_pdf(merged, staging / "report.pdf", notebooks, out / "latex.log")
        except exporters.RenderFailed as e:
            print(f"error: {e}", file=sys.stderr)
            return FAILED, None
        (out / "latex.log").unlink(missing_ok=True)     # a log of an earlier failure
        page_map = pages.page_map(labels, [row["part"] for row in info["parts"]])
        pages.write_pages(staging, page_map)
    (staging / RENDER_KEY).write_text(key)
    return status, page_map
